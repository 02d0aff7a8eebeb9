"""The built-in data sets: small tables that ship inside scikit-learn's wheel, so a
sweep needs no download."""

import functools

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine

from sweeper.config.checks import check_choice
from sweeper.data.dataset import Dataset, split_and_standardize
from sweeper.data.splits import check_split, check_split_settings

BUILTIN = ("digits", "breast_cancer", "wine")
LOADERS = {
    "digits": load_digits,  # 8x8 images of handwritten digits: 1797 x 64, 10 classes
    "breast_cancer": load_breast_cancer,  # 569 x 30, malignant or benign
    "wine": load_wine,  # 178 x 13, three cultivars
}


@functools.cache
def _raw(name: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A built-in set's features, class indices and labels, read once per process.

    The arrays are read-only: every caller shares them through the cache.
    """
    bunch = LOADERS[name]()
    x = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.int32)
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y, tuple(str(t) for t in bunch.target_names)


def load_builtin(
    name: str, test_fraction: float = 0.25, split_seed: int = 0
) -> Dataset:
    """Load a built-in classification set, split and standardized.

    Parameters
    ----------
    name : str
        One of BUILTIN: "digits", "breast_cancer" or "wine".
    test_fraction : float
        The share of rows held out for testing, in (0, 1).
    split_seed : int
        The split's seed: the same seed gives the same split.

    Returns
    -------
    Dataset
        A classification Dataset; `classes` are the set's target names as text.

    Raises
    ------
    ConfigError
        For an unknown name or a split setting out of range.
    """
    check_choice("task", name, BUILTIN)
    check_split_settings(test_fraction, split_seed)
    x, y, classes = _raw(name)
    counts = dict(zip(classes, np.bincount(y, minlength=len(classes)).tolist()))
    check_split(f"The data set `task={name}`", len(x), test_fraction, 1, counts)
    # The split copies the rows it picks, so the cached arrays are never handed out.
    return split_and_standardize(
        x, y, "classification", classes, name, test_fraction, split_seed
    )
