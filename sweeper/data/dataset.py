"""A task's data, split and standardized: the one form every loader returns."""

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from sweeper.config.checks import check_choice

KINDS = ("regression", "classification")


# eq=False: a generated == would compare arrays (ambiguous truth value) and hash
# them (unhashable); identity keeps a Dataset usable as a dictionary or cache key.
@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set split into training and test rows, ready to train on.

    Attributes
    ----------
    x_train : np.ndarray
        float32 [N, features], standardized with the training split's mean and std.
    y_train : np.ndarray
        Regression: float32 [N, outputs]. Classification: int32 [N] class indices.
    x_test : np.ndarray
        float32 [M, features], standardized with the *training* split's mean and std,
        so the test rows tell how the model does on data it has not seen.
    y_test : np.ndarray
        As `y_train`, for the test rows.
    kind : str
        "regression" or "classification".
    classes : tuple of str
        Classification: the class labels as text, in index order. Regression: ().
    name : str
        The built-in set's name (e.g. "digits") or the file's name.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    kind: str
    classes: tuple[str, ...]
    name: str

    @property
    def input_dim(self) -> int:
        """Features per row."""
        return self.x_train.shape[1]

    @property
    def output_dim(self) -> int:
        """Classes for classification, target columns for regression."""
        if self.kind == "classification":
            return len(self.classes)
        return self.y_train.shape[1]


def split_and_standardize(
    x: np.ndarray,
    y: np.ndarray,
    kind: str,
    classes: tuple[str, ...],
    name: str,
    test_fraction: float,
    split_seed: int,
) -> Dataset:
    """Split rows into training and test with a fixed seed, then standardize features.

    Parameters
    ----------
    x : np.ndarray
        [N, features], finite numbers.
    y : np.ndarray
        Regression: [N] or [N, outputs] numbers. Classification: [N] class indices
        into `classes`.
    kind : str
        "regression" or "classification"; classification splits stratified, so both
        sides keep the whole set's class proportions.
    classes : tuple of str
        Classification: the labels of the class indices. Regression: ().
    name : str
        The data set's name, kept in the Dataset.
    test_fraction : float
        The share of rows held out for testing, in (0, 1); the test side rounds up.
    split_seed : int
        scikit-learn's `random_state`: the same seed gives the same split.

    Returns
    -------
    Dataset
        Features float32, standardized with the training split's mean and std (a
        feature constant over the training rows becomes 0, not NaN); y float32
        [N, outputs] for regression, int32 [N] for classification.
    """
    check_choice("task.kind", kind, KINDS)
    classify = kind == "classification"
    x = np.asarray(x, dtype=np.float64)
    if classify:
        y = np.asarray(y).astype(np.int32)
    else:
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    x_train, x_test, y_train, y_test = train_test_split(
        x,
        y,
        test_size=float(test_fraction),
        random_state=split_seed,
        shuffle=True,
        stratify=y if classify else None,
    )
    # Statistics from the training rows only: the test rows stay unseen.
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0
    y_type = np.int32 if classify else np.float32
    return Dataset(
        x_train=((x_train - mean) / std).astype(np.float32),
        y_train=y_train.astype(y_type),
        x_test=((x_test - mean) / std).astype(np.float32),
        y_test=y_test.astype(y_type),
        kind=kind,
        classes=tuple(classes),
        name=name,
    )
