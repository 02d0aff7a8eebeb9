"""conf/ is installed as the package `sweeper.conf` (pyproject.toml), so that an
installed sweeper finds its YAML wherever it is run from. Edit the YAML here."""
