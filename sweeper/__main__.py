"""`python -m sweeper`: see sweeper.cli.main."""

import sys

if __name__ == "__main__":
    from sweeper.cli import early

    early.start_workers(sys.argv[1:])  # before Hydra's import: see cli/early.py
    from sweeper.cli.main import main

    main()
