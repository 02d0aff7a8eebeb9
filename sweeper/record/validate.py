"""Is a job folder a run as sweeper writes it? Checked before anything reads it.

Sweep folders travel (copied, received, half-synced), so a run.json or metrics.csv may
be damaged or made by hand. A run counts only if its run.json has the schema sweeper
writes and, unless the run failed, its metrics.csv has every column and exactly one
row per (logged step, layer). Anything else is *damaged*: listed, never used, and
trained again by `resume=true`.
"""

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sweeper.contract import ProgramKey
from sweeper.record.files import METRICS_COLUMNS, METRICS_FILE, RUN_FILE
from sweeper.record.verdict import FLAGS, OUTCOMES, VERDICTS

STATUSES = ("ok", "diverged", "failed")


@dataclass(frozen=True)
class Checked:
    """What a job folder holds: `record` when it is a complete, sound run; else
    `problem` says what is missing or wrong."""

    record: dict | None
    problem: str | None = None
    damaged: bool = False  # False with a problem: unfinished (still running, killed)


def check_run(job_dir: Path) -> Checked:
    """Read and check a job folder's run.json and metrics.csv."""
    job_dir = Path(job_dir)
    try:
        text = (job_dir / RUN_FILE).read_text()
    except FileNotFoundError:
        return Checked(None, "no run.json (still running, or stopped)")
    except (OSError, UnicodeDecodeError) as exc:
        return _damaged(f"run.json cannot be read ({type(exc).__name__})")
    try:
        record = json.loads(text)
    except ValueError:
        return _damaged("run.json is not JSON (truncated?)")
    if not isinstance(record, dict):
        return _damaged("run.json is not a JSON object")
    if record.get("complete") is False:
        return Checked(None, "run.json says the run is not complete")
    problem = record_problem(record)
    if problem is None and record["status"] != "failed":
        problem = _metrics_problem(job_dir / METRICS_FILE, record["config"])
    return _damaged(problem) if problem else Checked(record)


def _damaged(problem: str) -> Checked:
    return Checked(None, f"damaged: {problem}", damaged=True)


def _scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _number(value) -> bool:
    return value is None or (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _count(value, low: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


# Each field of run.json and the test its value must pass; `None` marks a field that
# records of earlier versions (or hand-made ones) may lack.
FIELDS = {
    "complete": (lambda v: v is True, "true"),
    "settings": (
        lambda v: isinstance(v, dict) and all(map(_scalar, v.values())),
        "an object of plain values",
    ),
    "status": (lambda v: v in STATUSES, " or ".join(STATUSES)),
    "verdict": (lambda v: v in VERDICTS, "a verdict name"),
    "flags": (
        lambda v: (
            isinstance(v, dict) and all(isinstance(v.get(f), bool) for f in FLAGS)
        ),
        "an object of true/false flags",
    ),
    "figures": (
        lambda v: isinstance(v, dict) and all(map(_number, v.values())),
        "an object of numbers",
    ),
    "diverged_at": (lambda v: v is None or _count(v), "null or a step"),
    "error": (lambda v: v is None or isinstance(v, str), "null or text"),
    "config": (
        lambda v: (
            isinstance(v, dict)
            and _count(v.get("steps"), 1)
            and _count(v.get("log_every"))
        ),
        "an object with steps and log_every",
    ),
    "config_hash": (lambda v: isinstance(v, str), "text"),
}
OPTIONAL = {
    "command": (lambda v: isinstance(v, str), "text"),
    "timings": (lambda v: isinstance(v, dict), "an object"),
    "versions": (lambda v: isinstance(v, dict), "an object"),
    "theory": (lambda v: v is None or isinstance(v, dict), "an object"),
    "init_variances": (lambda v: isinstance(v, dict), "an object"),
    "outcome": (lambda v: v is None or v in OUTCOMES, " or ".join(OUTCOMES)),
    "diverged_in": (lambda v: v is None or isinstance(v, str), "null or text"),
}


def record_problem(record: dict) -> str | None:
    """What is wrong with a run.json's fields, or None."""
    for name, (ok, wanted) in FIELDS.items():
        if name not in record:
            return f"run.json has no {name!r}"
        if not ok(record[name]):
            return f"run.json's {name!r} is not {wanted}"
    for name, (ok, wanted) in OPTIONAL.items():
        if name in record and not ok(record[name]):
            return f"run.json's {name!r} is not {wanted}"
    timings = record.get("timings") or {}
    if not _number(timings.get("group_seconds")):
        return "run.json's timings are not numbers"
    return None


def _metrics_problem(path: Path, config: dict) -> str | None:
    try:
        stamp = _stamp(path)
    except FileNotFoundError:
        return "metrics.csv is missing"
    except OSError as exc:
        return f"metrics.csv cannot be read ({type(exc).__name__})"
    # A report reads a folder's runs more than once: an unchanged file is checked once.
    return _checked_table(str(path), stamp, config["steps"], config["log_every"])


def _stamp(path: Path) -> tuple:
    """What tells an unchanged file: its modification time, size and inode."""
    info = Path(path).stat()
    return (info.st_mtime_ns, info.st_size, info.st_ino)


# The tables the last checks read, for the report's read of the same files after
# (`metrics_table`): parsing 256 metrics.csv twice was a tenth of a report's time.
_READ: dict = {}  # path -> (stamp, table)
READ_ROWS = 500_000  # at most this many rows are kept (~150 MB)
_read_rows = 0  # rows of the tables in _READ


def metrics_table(path: Path) -> pd.DataFrame:
    """A metrics.csv checked sound, as a table: the one its check read if the file is
    unchanged since, else read again. The caller must not change it."""
    kept = _READ.get(str(path))
    return kept[1] if kept and kept[0] == _stamp(path) else pd.read_csv(path)


def _keep(path: str, stamp: tuple, table: pd.DataFrame) -> None:
    # The rows kept are counted as they come (summing them at each file was
    # quadratic in a sweep's runs); a path kept again replaces its table.
    global _read_rows
    if path in _READ:
        _read_rows -= len(_READ.pop(path)[1])
    if _read_rows + len(table) > READ_ROWS:
        _READ.clear()
        _read_rows = 0
    _READ[path] = (stamp, table)
    _read_rows += len(table)


@functools.lru_cache(maxsize=4096)
def _checked_table(path: str, stamp: tuple, steps: int, log_every: int) -> str | None:
    logged = ProgramKey((), (), steps, log_every, tensorboard=False).logged_steps
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return f"metrics.csv cannot be parsed ({type(exc).__name__})"
    _keep(path, stamp, table)
    missing = [c for c in METRICS_COLUMNS if c not in table.columns]
    if missing:
        return f"metrics.csv lacks the column(s) {', '.join(missing)}"
    dtypes = table.dtypes  # of the columns, without a Series made for each
    text = [c for c in METRICS_COLUMNS if not pd.api.types.is_numeric_dtype(dtypes[c])]
    if text:
        return f"metrics.csv has text in the number column(s) {', '.join(text)}"
    if not _one_row_each(table, logged):
        return (
            f"metrics.csv has {len(table)} rows, not one per layer at each of the "
            f"{len(logged)} logged steps"
        )
    return None


def _one_row_each(table: pd.DataFrame, logged) -> bool:
    """Rows are (step, layer) for every logged step, layers 0..L-1 within each."""
    step, layer = table["step"].to_numpy(), table["layer"].to_numpy()
    if pd.isna(step).any() or pd.isna(layer).any():
        return False
    if not len(table) or len(table) % len(logged):
        return False
    layers = len(table) // len(logged)
    step, layer = step.reshape(len(logged), layers), layer.reshape(len(logged), layers)
    return bool((layer == range(layers)).all() and (step.T == logged).all())
