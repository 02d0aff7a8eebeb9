"""The training engine for a process sweeper starts to train: TensorFlow, lean.

TensorFlow imports Keras whole, and Keras imports scikit-learn, matplotlib, IPython
and pandas when it finds them, for what a process that only trains sweeper's groups
never uses: its scikit-learn wrappers, image galleries, notebook editing of saved
files and DataFrame inputs. Each is one of Keras' optional imports (`try: import ...
except ImportError`), so while TensorFlow loads they are made unimportable, and are
importable again once it has: about half of the import's time (NOTES.md). A module
already imported is left as it is, and nothing changes once TensorFlow is loaded.
Only for sweeper's own training processes (its workers, Ray's tasks, a basic
launcher's jobs), never in a user's process that imports sweeper.keras: there Keras
must see the user's pandas.
"""

import importlib
import sys
from contextlib import contextmanager

OPTIONAL = ("sklearn", "matplotlib", "IPython", "pandas")
PRELOAD = "sweeper.train.preload"  # `load` for a fork server (sweep/pool.py)


def engine():
    """sweeper.train.engine, TensorFlow imported without Keras' optional modules."""
    load()
    from sweeper.train import engine

    return engine


def load() -> None:
    """TensorFlow imported without Keras' optional modules, not started
    (train/_tf_import.py): what a process may still fork after."""
    if "tensorflow" not in sys.modules:
        with _unimportable([name for name in OPTIONAL if name not in sys.modules]):
            importlib.import_module("sweeper.train._tf_import")


def done() -> None:
    """What a training process does before it exits without Python's teardown
    (sweep/pool.py): its compile cache folder published and removed, which the cache's
    exit handler would do."""
    from sweeper.train import compile_cache

    compile_cache.close()


# A training worker's set-up for sweep/pool.py's Pool: warm, preload, done.
WORKER = (engine, PRELOAD, done)


@contextmanager
def _unimportable(names: list[str]):
    for name in names:
        sys.modules[name] = None  # `import name` now raises ImportError
    try:
        yield
    finally:
        for name in names:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
