"""A CSV table's features and target, every value checked on the way in."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sweeper.data.errors import file_error, listed, shown, unreadable


def _table(path: Path) -> pd.DataFrame:
    """The file as a table; an unreadable, empty or malformed file is a ConfigError."""
    try:
        with warnings.catch_warnings():
            # A row longer than the header would silently become the index (or, with
            # index_col=False, lose its last cells): pandas only warns, sweeper stops.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, index_col=False)
    except pd.errors.ParserWarning:
        raise file_error(
            path,
            "has a row with more cells than its header has names: name every column "
            "in the header or remove the extra cells",
        ) from None
    except pd.errors.EmptyDataError:
        raise file_error(
            path, "is empty: it needs a header row of column names and rows of data"
        ) from None
    except UnicodeDecodeError:
        # pandas decodes in chunks: the error's byte offset is not the file's.
        raise file_error(
            path, "is not UTF-8 text: save it as UTF-8 (a spreadsheet's CSV UTF-8)"
        ) from None
    except pd.errors.ParserError as error:
        first_line = str(error).strip().splitlines()[0]
        raise file_error(
            path, f"is not a valid CSV (pandas: {first_line}): fix the line it names"
        ) from None
    except OSError as error:
        raise unreadable(path, error) from None


def _where(column, row: int) -> str:
    """A cell's place as a user finds it: data rows count from 1 under the header."""
    return f"column {shown(column)}, row {row + 1} under the header"


def _finite_or_fail(path: Path, values: np.ndarray, columns, role: str) -> None:
    """Raise for the first missing or infinite cell, row by row."""
    bad = np.argwhere(~np.isfinite(values.reshape(len(values), -1)))
    if not len(bad):
        return
    row, col = bad[0]
    where = f"{role} {_where(columns[col], row)}"
    if np.isnan(values.reshape(len(values), -1)[row, col]):
        raise file_error(
            path, f"has a missing value (empty, NA or NaN) in {where}: fill or drop it"
        )
    raise file_error(path, f"has an infinite value in {where}: values must be finite")


def _features(path: Path, table: pd.DataFrame) -> np.ndarray:
    """Every feature column as float64 [N, features]; text in one is a ConfigError."""
    columns = {}
    for name, column in table.items():
        if pd.api.types.is_numeric_dtype(column):
            columns[name] = column.astype(np.float64)
            continue
        numbers = pd.to_numeric(column, errors="coerce")
        bad = numbers.isna() & column.notna()
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise file_error(
                path,
                f"holds {shown(column.iloc[row])} in feature {_where(name, row)}; "
                "every column but `task.target` is a feature and must be numeric: "
                "encode it as numbers or drop it",
            )
        columns[name] = numbers.astype(np.float64)
    x = pd.DataFrame(columns).to_numpy(dtype=np.float64)
    _finite_or_fail(path, x, list(table.columns), "feature")
    return x


def _target(path: Path, column: pd.Series) -> np.ndarray:
    """The target column: numbers (float64, int64 or bool) or text labels (str)."""
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy()
        if values.dtype.kind == "f":
            _finite_or_fail(path, values, [column.name], "target")
        return values
    missing = column.isna().to_numpy()
    if missing.any():
        row = int(np.argmax(missing))
        raise file_error(
            path,
            "has a missing value (empty, NA or NaN) in target "
            f"{_where(column.name, row)}: fill or drop it",
        )
    return column.astype(str).to_numpy(dtype=str)


def read_csv(path: Path, target: str | None) -> tuple[np.ndarray, np.ndarray, str]:
    """A CSV file's features [N, features], target [N] and how messages name the
    target; every other column than `target` is a feature."""
    table = _table(path)
    columns = list(table.columns)
    if not len(table):
        raise file_error(
            path, "has a header but no rows of data: add rows under the header"
        )
    if target is None:
        raise file_error(
            path,
            "is a CSV, so `task.target` must name its target column; its columns: "
            f"{listed(columns)}",
        )
    if target not in table.columns:
        raise file_error(
            path,
            f"has no column {shown(target)} (`task.target`); its columns: "
            f"{listed(columns)}",
        )
    if len(columns) == 1:
        raise file_error(
            path,
            f"has only its target column {shown(target)}: add at least one feature "
            "column",
        )
    x = _features(path, table.drop(columns=[target]))
    return x, _target(path, table[target]), f"target column {shown(target)}"
