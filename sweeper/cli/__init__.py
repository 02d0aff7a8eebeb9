"""The command line and its Hydra side: checks, task function, report callback."""
