"""The typed config and the table of every option's facts; free of Hydra and TF."""
