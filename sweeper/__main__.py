"""`python -m sweeper`: see sweeper.cli.main."""

from sweeper.cli.main import main

if __name__ == "__main__":
    main()
