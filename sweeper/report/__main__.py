"""`python -m sweeper.report <folder>`: see sweeper.report.build.main."""

from sweeper.report.build import main

if __name__ == "__main__":
    main()
