"""The tasks' data, free of TensorFlow: built-in sets and the user's own files, each
split with a fixed seed and standardized on its training rows."""

from sweeper.data.builtin import BUILTIN, load_builtin
from sweeper.data.dataset import Dataset, split_and_standardize
from sweeper.data.files import load_file

__all__ = ["BUILTIN", "Dataset", "load_builtin", "load_file", "split_and_standardize"]
