"""The command line and its Hydra side: checks, the task function, the report callback."""
