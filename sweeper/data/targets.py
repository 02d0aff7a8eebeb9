"""What a file's target means: which kind of task it is, and its classes."""

from pathlib import Path

import numpy as np

from sweeper.config.checks import FLOAT32_MAX
from sweeper.data.errors import file_error, shown

NUMBER_KINDS = "biuf"  # bool, signed and unsigned integer, float


def infer_kind(y: np.ndarray) -> str:
    """Float targets are values to predict; integers, booleans and text are labels."""
    return "regression" if y.dtype.kind == "f" else "classification"


def class_indices(
    path: Path, y: np.ndarray, target: str
) -> tuple[np.ndarray, tuple[str, ...], dict]:
    """Labels as int32 indices into the sorted classes, the classes as text, and how
    many rows each class has."""
    if y.ndim == 2:
        if y.shape[1] != 1:
            raise file_error(
                path,
                f"has {y.shape[1]} columns in {target}, but classification takes one "
                "label per row: set `task.kind=regression` for several outputs",
            )
        y = y[:, 0]
    labels, indices, counts = np.unique(y, return_inverse=True, return_counts=True)
    classes = tuple(str(label) for label in labels)
    if len(classes) < 2:
        raise file_error(
            path,
            f"has one class only ({shown(classes[0])}) in {target}; classification "
            "needs at least 2: check `task.target` and the file",
        )
    return indices.astype(np.int32), classes, dict(zip(classes, counts.tolist()))


def regression_target(path: Path, y: np.ndarray, target: str) -> np.ndarray:
    """The target as float64 [N, outputs]."""
    if y.dtype.kind not in NUMBER_KINDS:
        raise file_error(
            path,
            f"has text such as {shown(str(y.flat[0]))} in {target}, but `task.kind` is "
            "regression: give numbers, or set `task.kind=classification`",
        )
    y = y.astype(np.float64).reshape(len(y), -1)
    # The engine computes in float32: a larger target would become inf.
    largest = np.abs(y).max()
    if largest > FLOAT32_MAX:
        raise file_error(
            path,
            f"has {largest:.3g} in {target}, beyond float32's range (3.4e+38): "
            "rescale the target",
        )
    return y
