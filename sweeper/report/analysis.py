"""Read a run or sweep folder into one table: one row per run, settings next to results.

Settings columns hold numbers where every value of a key is numeric, so they sort and
pivot naturally; the CLI text of each value is kept in `runs.attrs["cli_text"]` so
labels still read exactly as typed (`lr=1e-3`, not `0.001`).
"""

from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from sweeper.config.schema import SWEEP_KEYS
from sweeper.record import files, validate
from sweeper.record.verdict import FLAGS

REPLICATES = ("seed",)  # swept keys that repeat a run rather than change it
FIGURES = (  # sweeper.record.verdict.figures; README, "Output files"
    "final_loss",
    "final_accuracy",
    "baseline_loss",
    "out_spread",
    "signal_decades",
    "signal_slope",
    "signal_decades_early",
    "signal_decades_late",
    "signal_decades_max",
    "first_drift_ratio",
    "first_grad_std_init",
    "loss_growth",
    "max_dead_frac",
)


# The mean-field prediction at initialization (sweeper.theory), empty where it does
# not apply: fixed point, chi_1, predicted decades per hidden layer, phase; or why not.
THEORY = {
    "theory_q_star": "q_star",
    "theory_chi1": "chi_1",
    "theory_slope": "slope",
    "theory_phase": "phase",
    "theory_why": "why",  # where it does not apply: why not
}
RESULTS = {"job", "status", "verdict", "outcome", *FLAGS, *FIGURES, "error"}
RESULTS |= {"diverged_at", "diverged_in"}
RESULTS |= set(THEORY)
RESULTS |= {"started_at", "seconds", "command", "sweeper_version", "layer_names"}
CONFIG = "config/"  # prefix of the resolved-settings columns: config/model.width


def job_dirs(folder: Path) -> list[Path]:
    """The folder itself if it holds a run, else its job subdirs, by job number."""
    subdirs = [d for d in folder.iterdir() if d.is_dir() and _looks_like_run(d)]
    subdirs = [d for d in subdirs if not d.name.startswith(".")]  # .hydra, .cache
    if (folder / files.RUN_FILE).exists() or not subdirs:
        return [folder]
    # Hydra numbers jobs 0, 1, ..., 10: sort numerically, other names after, by name.
    return sorted(subdirs, key=_job_order)


def _job_order(path: Path) -> tuple:
    name = path.name
    return (not name.isdigit(), int(name) if name.isdigit() else 0, name)


def _looks_like_run(path: Path) -> bool:
    marks = (files.RUN_FILE, files.METRICS_FILE, ".hydra")
    return any((path / mark).exists() for mark in marks)


def load_runs(
    folder: Path, jobs: Collection[str] | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Collect every complete, sound run of a run or sweep folder into one table.

    Parameters
    ----------
    folder
        A single-run dir (holding run.json itself) or a sweep dir of job subdirs.
    jobs
        Only these job dirs (names), e.g. the jobs of one command; default all.

    Returns
    -------
    runs
        One row per complete run, in job order: `job` ("." for a single-run dir), every
        settings key (union over runs; numeric where all values are), `status`,
        `verdict`, one boolean column per flag, the figures, `error`, `diverged_at`,
        `started_at` and `seconds` (its group's), and `config/<key>` for every resolved
        setting of its config.
        `runs.attrs["cli_text"]` maps key -> {value: text as on the CLI}.
    incomplete
        Job name -> what is wrong, for dirs that look like runs (`.hydra`,
        metrics.csv or run.json) but hold no complete run (a job still running or
        killed) or a damaged one ("damaged: ...", see `sweeper.record.validate`).
    """
    folder = Path(folder)
    rows, incomplete = [], {}
    for job_dir in job_dirs(folder):
        job = "." if job_dir == folder else job_dir.name
        if jobs is not None and job not in jobs:
            continue
        checked = validate.check_run(job_dir)
        record = checked.record
        if record is None:
            if _looks_like_run(job_dir):
                incomplete[job] = checked.problem
            continue
        figures = record.get("figures") or {}
        timings = record.get("timings") or {}
        predicted = record.get("theory") or {}
        rows.append(
            {
                "job": job,
                **{f"setting:{k}": str(v) for k, v in record["settings"].items()},
                "status": record.get("status"),
                "verdict": record.get("verdict"),
                "outcome": record.get("outcome"),
                **{flag: bool(record.get("flags", {}).get(flag)) for flag in FLAGS},
                **{name: _float(figures.get(name)) for name in FIGURES},
                "error": record.get("error"),
                "diverged_at": record.get("diverged_at"),
                "diverged_in": _text(record.get("diverged_in")),
                **{column: predicted.get(key) for column, key in THEORY.items()},
                "started_at": timings.get("started_at"),
                "command": record.get("command"),
                "sweeper_version": (record.get("versions") or {}).get("sweeper"),
                "layer_names": _names(record.get("layer_names")),
                "seconds": _float(timings.get("group_seconds")),
                **_flat(_run_settings(record.get("config") or {}), CONFIG),
            }
        )
    runs = pd.DataFrame(rows, columns=None if rows else ["job", "status", "verdict"])
    runs = runs.rename(columns=_setting_column)
    cli_text = {}
    for key in _settings_keys(rows):
        text = runs[key]
        runs[key] = _numeric(text)
        cli_text[key] = dict(zip(runs[key].dropna(), text.dropna()))
    if "diverged_at" in runs:
        runs["diverged_at"] = runs["diverged_at"].astype("Int64")
    runs.attrs["cli_text"] = SharedText(cli_text)
    return runs, incomplete


class SharedText(dict):
    """runs.attrs["cli_text"]: made once by `load_runs`, only read after. pandas
    deep-copies a frame's attrs into every column and result taken from it, which over
    a report's thousands of column reads was a third of the time its text took; this
    one is shared instead of copied."""

    def __deepcopy__(self, memo) -> "SharedText":
        return self


def _names(names) -> str | None:
    """A Keras model's layer names as one text cell, "dense|dense_1|..."."""
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        return "|".join(names)
    return None


def _run_settings(config: dict) -> dict:
    """A run's config less the keys that steer the sweep (resume, ...), not the run."""
    return {key: value for key, value in config.items() if key not in SWEEP_KEYS}


def _flat(config: dict, prefix: str) -> dict:
    """A nested config as one level: {"model": {"width": 16}} -> {"config/model.width":
    16} for the prefix "config/"."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _settings_keys(rows: list[dict]) -> list[str]:
    keys = dict.fromkeys(k for row in rows for k in row if k.startswith("setting:"))
    return [_setting_column(k) for k in keys]


def _setting_column(name: str) -> str:
    """A setting's column: its CLI key, unless a result column has that name."""
    if not name.startswith("setting:"):
        return name
    key = name.removeprefix("setting:")
    # `verdict=default` selects a config group but would shadow the verdict column.
    return f"{key} (setting)" if key in RESULTS else key


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _float(value) -> float:
    return float("nan") if value is None else float(value)


def _numeric(text: pd.Series) -> pd.Series:
    """Numbers if every present value is one, else the text unchanged."""
    try:
        return pd.to_numeric(text, errors="raise")
    except (ValueError, TypeError):
        return text


def swept_keys(runs: pd.DataFrame) -> list[str]:
    """The settings keys whose values vary across runs.

    Parameters
    ----------
    runs
        A table from `load_runs`.

    Returns
    -------
    list[str]
        Keys in first-appearance order; for a one-run table, all of its settings keys
        (possibly none).
    """
    keys = list(runs.attrs.get("cli_text", {}))
    if len(runs) <= 1:
        return keys
    return [k for k in keys if runs[k].astype(str).nunique(dropna=False) > 1]


def labels(runs: pd.DataFrame, keys: list[str] | None = None) -> pd.Series:
    """Each run's settings as on the CLI, e.g. "init=normal depth=3"; job if none."""
    keys = swept_keys(runs) if keys is None else keys
    parts = [runs[k].map(lambda v, k=k: f"{k}={cli_text(runs, k, v)}") for k in keys]
    if not parts:
        return runs["job"].map(lambda job: "this run" if job == "." else f"job {job}")
    # Joined as lists: a row-wise DataFrame.agg makes a Series of every row.
    joined = [" ".join(row) for row in zip(*(part.tolist() for part in parts))]
    return pd.Series(joined, index=runs.index)


def setting_labels(runs: pd.DataFrame) -> pd.Series:
    """Each run's label without REPLICATES keys: runs of other seeds share one."""
    keys = [k for k in swept_keys(runs) if k not in REPLICATES]
    return labels(runs, keys or None)


def cli_text(runs: pd.DataFrame, key: str, value) -> str:
    """A setting value as typed on the CLI (falls back to a plain rendering)."""
    text = runs.attrs.get("cli_text", {}).get(key, {}).get(value)
    if text is not None:
        return text
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def load_metrics(folder: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """Concatenate the metrics.csv of the given runs.

    Parameters
    ----------
    folder
        The folder `runs` was loaded from.
    runs
        A table from `load_runs`; failed runs are skipped (a metrics.csv beside a
        failed run.json is not that run's).

    Returns
    -------
    pd.DataFrame
        The long metrics tables, one row per (run, logged step, layer); `job` first.
    """
    tables = {}
    for job in runs.loc[runs["status"] != "failed", "job"]:
        path = Path(folder) / job / files.METRICS_FILE
        if path.is_file():
            tables[job] = validate.metrics_table(path)
    if not tables:
        return pd.DataFrame(columns=["job", *files.METRICS_COLUMNS])
    joined = pd.concat(tables, names=["job", None])
    return joined.reset_index(level="job").reset_index(drop=True)
