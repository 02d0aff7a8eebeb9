"""The user's own data: a CSV table or an .npz archive, checked, split and
standardized. A bad file fails with one line that names it and says what to fix."""

import os
from pathlib import Path

from sweeper.config.checks import ConfigError, check
from sweeper.data.csv_reader import read_csv
from sweeper.data.dataset import KINDS, Dataset, split_and_standardize
from sweeper.data.errors import file_error, file_subject, shown
from sweeper.data.npz_reader import read_npz
from sweeper.data.splits import check_split, check_split_settings
from sweeper.data.targets import class_indices, infer_kind, regression_target

READERS = {".csv": read_csv, ".npz": read_npz}
FORMATS = ".csv (a table with a header row) or .npz (arrays x and y, from np.savez)"


def _check_kind(kind, path) -> None:
    if kind is not None and kind not in KINDS:
        raise ConfigError(
            f"The value for `task.kind` must be one of {list(KINDS)} or unset (then "
            f"the target of `task.path` {str(path)!r} decides), but {shown(kind)} was "
            "passed."
        )


def _reader(path: Path):
    """The reader for a file that exists and has an extension sweeper reads."""
    if not path.exists():
        where = "" if path.is_absolute() else f" (read from {os.getcwd()!r})"
        raise file_error(path, f"does not exist{where}: check the path")
    if not path.is_file():
        what = "a folder" if path.is_dir() else "not a regular file"
        raise file_error(path, f"is {what}: name a {FORMATS}")
    suffix = path.suffix.lower()
    if suffix not in READERS:
        found = f"extension {shown(suffix)}" if suffix else "no extension"
        raise file_error(path, f"has {found}; sweeper reads {FORMATS}")
    return READERS[suffix]


def load_file(
    path: str | os.PathLike,
    target: str | None = None,
    kind: str | None = None,
    test_fraction: float = 0.25,
    split_seed: int = 0,
    batch_size: int = 1,
) -> Dataset:
    """Load the user's data file, split and standardized.

    Parameters
    ----------
    path : str or PathLike
        A .csv file (a header row, then one row per example) or an .npz archive
        (from np.savez) holding `x` [N, features] and `y` [N] or [N, outputs].
    target : str, optional
        CSV: the target column's name (required); every other column is a feature
        and must be numeric. .npz: must be unset (the target is `y`).
    kind : {"regression", "classification"}, optional
        Unset: float targets are regression; integer, boolean and text targets are
        class labels.
    test_fraction : float
        The share of rows held out for testing, in (0, 1); the test side rounds up.
    split_seed : int
        The split's seed: the same seed gives the same split.
    batch_size : int
        The training batch; the training split must hold at least one batch.

    Returns
    -------
    Dataset
        Named after the file; classification classes are the sorted labels as text.

    Raises
    ------
    ConfigError
        For a setting out of range or a file sweeper cannot train on; the message is
        one line that names the file, the problem and what to do.
    """
    check(
        isinstance(path, (str, os.PathLike)) and str(path) != "",
        "task.path",
        path,
        f"the path of a {FORMATS}",
    )
    _check_kind(kind, path)
    check_split_settings(test_fraction, split_seed, batch_size)
    path = Path(path)
    # Files from someone else: read_npz never unpickles, and every value is checked.
    x, y, target_name = _reader(path)(path, target)
    kind = kind or infer_kind(y)
    if kind == "classification":
        y, classes, counts = class_indices(path, y, target_name)
    else:
        y, classes, counts = regression_target(path, y, target_name), (), None
    check_split(file_subject(path), len(x), test_fraction, batch_size, counts)
    return split_and_standardize(
        x, y, kind, classes, path.name, test_fraction, split_seed
    )
