"""The per-run file contract: what metrics.csv and run.json hold, and how to write them.

Files are written to a temporary name and renamed into place, so a reader never sees
half a file; a run is complete only once its run.json exists and says so.
"""

import functools
import hashlib
import importlib.metadata
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from sweeper.contract import LAYER_METRICS, RUN_METRICS

FLOAT_FORMAT = "%.9g"  # every float32 digit
METRICS_FILE = "metrics.csv"
RUN_FILE = "run.json"
# Long format: one row per (logged step, layer), after the run's swept settings.
METRICS_COLUMNS = ("step", "layer", *LAYER_METRICS, *RUN_METRICS)


@functools.cache
def versions() -> dict:
    """Versions of sweeper and what its numbers depend on, for run.json."""
    found = {}
    for package in ("sweeper", "tensorflow", "keras", "hydra-core", "numpy"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    return found


def run_head(settings: dict, config: dict, command: str, hashed: dict) -> dict:
    """The fields a complete run.json opens with, the same for a sweep's job and a
    Keras `fit`'s run: what it is (`hashed`: the part of its config that makes it this
    run; its fingerprint lets `resume` tell a done run), how it was run, and with
    what versions."""
    return {
        "complete": True,
        "settings": settings,
        "config_hash": config_hash(hashed),
        "config": config,
        "command": command,
        "versions": versions(),
    }


def config_hash(config: dict) -> str:
    """A config's stable fingerprint: 16 hex digits of the sha256 of its sorted JSON
    (a value JSON cannot hold is written as its str)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def metrics_table(steps, layer: dict, run: dict, settings: dict) -> pd.DataFrame:
    """One run's measurements as a long table; `layer` arrays are [K, layers]."""
    columns = _long_columns(steps, layer, run)
    rows = len(columns["step"])
    return pd.DataFrame({**{k: [v] * rows for k, v in settings.items()}, **columns})


def _long_columns(steps, layer: dict, run: dict) -> dict:
    """METRICS_COLUMNS as arrays, one row per (logged step, layer)."""
    n_steps, n_layers = layer[LAYER_METRICS[0]].shape
    columns = {
        "step": np.repeat(steps, n_layers),
        "layer": np.tile(np.arange(n_layers), n_steps),
    }
    for name in LAYER_METRICS:
        columns[name] = layer[name].reshape(-1)
    for name in RUN_METRICS:
        columns[name] = np.repeat(run[name], n_layers)
    return columns


def write_metrics(steps, layer: dict, run: dict, settings: dict, path: Path) -> None:
    """`metrics_table(...)` written as `write_csv` writes it, byte for byte, without
    the table: pandas formats a float cell by cell in Python with more work around
    each than the formatting itself, and a sweep's parent writes every run's file.
    Here the whole table's numbers are one `%` formatting."""
    columns = _long_columns(steps, layer, run)
    formats = ["%s" if v.dtype.kind in "iu" else FLOAT_FORMAT for v in columns.values()]
    values = [v.tolist() for v in columns.values()]
    end = os.linesep  # pandas' line end
    rows = len(values[0])
    text = end.join([",".join(formats)] * rows) % tuple(
        value for row in zip(*values) for value in row
    )
    # A number's cell is only digits, signs, '.', 'e', 'inf' or 'nan': each 'nan' is a
    # whole cell, and pandas writes NaN as an empty one.
    text = text.replace("nan", "")
    names, first = _settings_cells(settings)
    lines = [names + ",".join(columns)]
    lines += [first + row for row in text.split(end)] if rows else []
    text = end.join(lines) + end
    _atomic_write(path, lambda h: h.write(text))


def _settings_cells(settings: dict) -> tuple[str, str]:
    """The settings' header and row cells, each ending in a comma (empty without
    settings), as write_csv writes them: pandas formats and quotes its one row."""
    pairs = [_settings_cell(key, value) for key, value in settings.items()]
    return "".join(name for name, _ in pairs), "".join(cell for _, cell in pairs)


_CELLS: dict = {}


def _settings_cell(key, value) -> tuple[str, str]:
    """One setting's header and row cell, each with its comma, as pandas writes them
    in a table of other columns (each column is formatted and quoted on its own),
    kept by key and value: a sweep's runs repeat them."""
    found = _CELLS.get(memo := (repr(key), type(value), repr(value)))
    if found is None:
        # After a column "_" of 0: a table of one column writes an empty cell as '""'
        table = _defused(pd.DataFrame({"_": [0], key: [value]}))
        written = table.to_csv(index=False, float_format=FLOAT_FORMAT)
        names, cells = written.removesuffix(os.linesep).split(os.linesep, 1)
        found = _CELLS[memo] = (names[2:] + ",", cells[2:] + ",")
    return found


def umask() -> int:
    """This process's umask, read without changing it where Linux allows."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    # Elsewhere reading it means setting it: for a moment another thread's new file
    # would get umask 0.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path: Path, write, mode: str = "w") -> None:
    """Write `path` through a temporary file renamed onto it: a reader never sees half
    a file, and a symlink at `path` is replaced, never written through."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes its file 0600; the file is meant to be shared like any other a
        # tool writes, so it gets the mode open() would give it.
        os.chmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, mode, **({"newline": ""} if "b" not in mode else {})) as h:
            write(h)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# A text cell a spreadsheet would run as a formula (OWASP's list): it gets a leading
# apostrophe, which spreadsheets show as text. Numbers such as -0.1 are left alone.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defused(value):
    """A CSV cell that no spreadsheet reads as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
        return value  # a number, e.g. -0.1
    except ValueError:
        return "'" + value


def _defused(table: pd.DataFrame) -> pd.DataFrame:
    text = table.select_dtypes(include=["object", "string"]).columns
    if len(text):
        table = table.assign(**{c: table[c].map(defused) for c in text})
    return table


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV, atomically; floats keep float32 precision, text cells
    that would be formulas are defused."""
    table = _defused(table)
    _atomic_write(
        path, lambda h: table.to_csv(h, index=False, float_format=FLOAT_FORMAT)
    )


def write_bytes(data: bytes, path: Path) -> None:
    """Write a binary file (a figure) atomically."""
    _atomic_write(path, lambda h: h.write(data), "wb")


def write_text(text: str, path: Path) -> None:
    """Write a text file atomically."""
    _atomic_write(path, lambda h: h.write(text))


def write_json(record: dict, path: Path) -> None:
    """Write a record as JSON, atomically; NaN and inf become null."""
    text = json.dumps(_finite(record), indent=2, sort_keys=False)
    _atomic_write(path, lambda h: h.write(text + "\n"))


def _finite(value):
    """Strict JSON has no NaN or inf: map them to null, recursively."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def clean_stale_temporaries(folder: Path) -> int:
    """Delete the temporary files a killed writer left in a folder and its job dirs.

    Only names `_atomic_write` makes (`.<name>.<random>.tmp`), only regular files or
    links (a link itself, never its target), never through a linked directory.
    Call it while holding the folder's lock: a live writer's file looks the same.
    """
    removed = 0
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    job_dirs = [d for d in folder.iterdir() if d.is_dir() and not d.is_symlink()]
    for directory in [folder, *job_dirs]:
        for entry in os.scandir(directory):
            name = entry.name
            if (
                name.startswith(".")
                and name.endswith(".tmp")
                and not entry.is_dir(follow_symlinks=False)
            ):
                os.unlink(entry.path)
                removed += 1
    return removed


def read_run(job_dir: Path) -> dict | None:
    """A job's run.json, or None when the run is missing or incomplete."""
    path = Path(job_dir) / RUN_FILE
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if record.get("complete") else None
