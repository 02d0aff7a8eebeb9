"""An .npz archive's arrays `x` and `y`, loaded without unpickling and checked."""

import zipfile
from pathlib import Path

import numpy as np

from sweeper.data.errors import file_error, listed, shown, unreadable
from sweeper.data.targets import NUMBER_KINDS

ZIP_SIGNATURE = b"PK\x03\x04"  # np.savez writes a zip archive
NPY_SIGNATURE = b"\x93NUMPY"  # np.save writes one bare array
SAVEZ = "write it with np.savez(path, x=features, y=targets)"
LABEL_KINDS = NUMBER_KINDS + "U"  # class labels may also be text


def _signature(path: Path) -> bytes:
    """The file's first bytes, which tell an archive from anything else."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(ZIP_SIGNATURE) + 2)
    except OSError as error:
        raise unreadable(path, error) from None


def _array(path: Path, archive, name: str) -> np.ndarray:
    """One array of the archive; an object array stays unread."""
    try:
        return archive[name]
    except ValueError as error:
        if "allow_pickle" in str(error):
            # Unpickling runs code from the file: a file from someone else could run
            # anything.
            raise file_error(
                path,
                f"holds `{name}` as an object array, which sweeper never loads (it "
                "would unpickle it): save numbers, or text labels as a str array",
            ) from None
        raise file_error(path, f"has an unreadable array `{name}` ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise file_error(path, f"has an unreadable array `{name}` ({error})") from None


def _arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The archive's `x` and `y`, as stored."""
    head = _signature(path)
    if not head:
        raise file_error(path, f"is empty: {SAVEZ}")
    if head.startswith(NPY_SIGNATURE):
        raise file_error(path, f"holds one bare .npy array, not an archive: {SAVEZ}")
    if not head.startswith(ZIP_SIGNATURE):
        raise file_error(path, f"is not an .npz archive (no zip signature): {SAVEZ}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in ("x", "y") if name not in archive.files]
            if missing:
                raise file_error(
                    path,
                    f"has no array {' or '.join(f'`{m}`' for m in missing)} (its "
                    f"arrays: {listed(archive.files)}): {SAVEZ}",
                )
            return _array(path, archive, "x"), _array(path, archive, "y")
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        problem = f"is not a valid .npz archive ({error}): {SAVEZ}"
        raise file_error(path, problem) from None


def _finite_or_fail(path: Path, values: np.ndarray, name: str, role: str) -> None:
    """Raise for the first NaN or infinite entry, named as numpy indexes it."""
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        index = ", ".join(str(i) for i in bad[0])
        raise file_error(
            path,
            f"has {values[tuple(bad[0])]} at `{name}[{index}]`: {role} must be finite "
            "numbers, so fill or drop that row",
        )


def _checked_x(path: Path, x: np.ndarray) -> np.ndarray:
    if x.ndim != 2:
        raise file_error(
            path,
            f"has `x` of shape {x.shape}, but `x` must be 2-D [rows, features] (one "
            "feature: x.reshape(-1, 1))",
        )
    if x.dtype.kind not in NUMBER_KINDS:
        raise file_error(
            path,
            f"has `x` of dtype {x.dtype}, but features must be real numbers: save "
            "x.astype(float)",
        )
    if not x.shape[0]:
        raise file_error(
            path, f"has no rows: `x` has shape {x.shape}; save one row per example"
        )
    if not x.shape[1]:
        raise file_error(
            path, f"has no features: `x` has shape {x.shape}; save at least one column"
        )
    x = x.astype(np.float64)
    _finite_or_fail(path, x, "x", "features")
    return x


def _checked_y(path: Path, y: np.ndarray, n_rows: int) -> np.ndarray:
    if y.ndim not in (1, 2) or (y.ndim == 2 and not y.shape[1]):
        raise file_error(
            path,
            f"has `y` of shape {y.shape}, but `y` must be [rows] or [rows, outputs]",
        )
    if len(y) != n_rows:
        raise file_error(
            path,
            f"has {len(y)} rows in `y` but {n_rows} in `x`: they must match row for "
            "row",
        )
    if y.dtype.kind not in LABEL_KINDS:
        raise file_error(
            path,
            f"has `y` of dtype {y.dtype}, but targets must be numbers or text labels: "
            "save y.astype(str) for labels",
        )
    if y.dtype.kind == "f":
        _finite_or_fail(path, y, "y", "targets")
    return y


def read_npz(path: Path, target: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    """An .npz file's features [N, features], target [N] or [N, outputs] and how
    messages name the target."""
    if target is not None:
        raise file_error(
            path,
            f"is an .npz, whose target is always its array `y`: unset `task.target` "
            f"(now {shown(target)})",
        )
    x, y = _arrays(path)
    x = _checked_x(path, x)
    return x, _checked_y(path, y, len(x)), "target `y`"
