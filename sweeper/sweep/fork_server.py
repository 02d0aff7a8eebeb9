"""The first module the workers' fork server imports (sweep/pool.py): from here on the
server ends with the process that started it, even in the middle of the next module's
import, and the workers it forks end with it."""

from sweeper.sweep import pool

pool.serve_forks()
