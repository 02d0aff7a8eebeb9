"""What fixes a failing setting: the single changes the sweep measured.

A setting is a combination of swept values other than the seed; its runs are its
seeds. It fails when its commonest verdict over them is not healthy (a tie counts as
the worse verdict). A single change moves one swept axis to another of its values and
holds every other axis; it is measured when the sweep trained that setting, and never
guessed otherwise. A change fixes the setting when the setting it leads to is healthy
(its commonest verdict); fixes rank by how reliably they do, the share of their seeds
that are healthy, then the share healthy from initialization on (not a signal that
started vanishing and recovered), then by how far the median final probe loss falls,
then by how far the median final probe accuracy rises (classification).

`fixes.csv` (FIXES_FILE) holds every measured single change of every failing setting,
fixes first, one row each (COLUMNS; README, "Output files").
"""

from pathlib import Path

import numpy as np
import pandas as pd

from sweeper.record import files
from sweeper.report import analysis, plots, stories
from sweeper.report.stories import commonest

FIXES_FILE = "fixes.csv"
COLUMNS = (
    "setting",  # the failing setting, as on the CLI: "init=normal depth=3"
    "verdict",  # its commonest verdict over its seeds
    "seeds",  # its runs
    "change",  # the single change, as on the CLI: "init=xavier"
    "axis",  # the swept key it moves
    "from",  # the key's value in the failing setting
    "to",  # ... and after the change
    "to_verdict",  # the commonest verdict of the setting it leads to
    "healthy_share",  # the share of that setting's runs that are healthy
    # ... and healthy from initialization on (no signal that vanished, then recovered)
    "steady_share",
    "to_seeds",  # that setting's runs
    "loss_before",  # median final probe loss of the failing setting's trained runs
    "loss_after",  # ... of the setting it leads to
    "loss_change",  # loss_after - loss_before (negative: the loss falls)
    "accuracy_before",  # median final probe accuracy (classification), else empty
    "accuracy_after",
    "fixes",  # whether the change makes the setting healthy
    "rank",  # 1, 2, ... among the setting's fixes; empty for changes that do not fix
)


def axes(runs: pd.DataFrame) -> list[str]:
    """The swept keys that make settings (every one but the seed)."""
    return [k for k in analysis.swept_keys(runs) if k not in analysis.REPLICATES]


def settings(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per setting: its axis values, label, runs, healthy runs, commonest
    verdict and the runs that have it, median final loss and accuracy, in job
    order."""
    keys = axes(runs)
    labels = analysis.labels(runs, keys)
    groups = runs.groupby(labels.to_numpy(), sort=False).indices  # in job order
    steady = _steady_each(runs, groups)
    # Columns taken out once: per setting, numpy indexing instead of a sub-table.
    values = {key: runs[key].to_numpy(object) for key in keys}
    verdicts = runs["verdict"].to_numpy(object)
    trained = (runs["status"] != "failed").to_numpy()
    loss, accuracy = (_numbers(runs, c) for c in ("final_loss", "final_accuracy"))
    rows = []
    for label, index in groups.items():
        mine, kept = verdicts[index], index[trained[index]]
        rows.append(
            {
                **{key: values[key][index[0]] for key in keys},
                "setting": label,
                "seeds": len(index),
                "healthy": int((mine == "healthy").sum()),
                "steady": int(steady[index].sum()),
                "verdict": (verdict := commonest(mine)),
                "agree": int((mine == verdict).sum()),
                "loss": _median(loss[kept]),
                "accuracy": _median(accuracy[kept]),
            }
        )
    return pd.DataFrame(rows)


def _steady(group: pd.DataFrame) -> np.ndarray:
    """Runs healthy from initialization on: not a signal that started vanishing and
    recovered (which another seed, or fewer steps, may not)."""
    started = stories.started_vanishing(group, stories.thresholds(group))
    return (group["verdict"] == "healthy").to_numpy() & ~started


def _steady_each(runs: pd.DataFrame, groups: dict) -> np.ndarray:
    """`_steady` of every run, judged by its setting's thresholds: in one pass when
    every run has the same thresholds (a sweep that does not sweep them)."""
    columns = [c for c in runs.columns if c.startswith(f"{analysis.CONFIG}verdict.")]
    if all(runs[c].nunique(dropna=False) <= 1 for c in columns):
        return _steady(runs)
    steady = np.zeros(len(runs), bool)
    for index in groups.values():
        steady[index] = _steady(runs.iloc[index])
    return steady


def _numbers(runs: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats (NaN where absent or not a number)."""
    if column not in runs:
        return np.full(len(runs), np.nan)
    return pd.to_numeric(runs[column], errors="coerce").to_numpy(float)


def _median(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if len(values) else float("nan")


def single_changes(runs: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Every measured single change of every failing setting (COLUMNS), each
    setting's fixes first, ranked; failing settings in job order. `table`: the
    runs' `settings`."""
    keys = axes(runs)
    if not keys or table.empty:
        return pd.DataFrame(columns=COLUMNS).astype({"fixes": bool})
    where = {tuple(_key(row[k]) for k in keys): row for _, row in table.iterrows()}
    rows = []
    for _, cell in table[table["verdict"] != "healthy"].iterrows():
        mine = []
        for index, key in enumerate(keys):
            for value in plots.levels(runs[key]):
                if _key(value) == _key(cell[key]):
                    continue
                at = [_key(cell[k]) for k in keys]
                at[index] = _key(value)
                target = where.get(tuple(at))
                if target is not None:
                    mine.append(_change(runs, cell, target, key, value))
        rows += _ranked(mine)
    return pd.DataFrame(rows, columns=COLUMNS).astype({"fixes": bool})


def _key(value):
    """A setting value as a dictionary key (NaN equals NaN)."""
    return "<nan>" if isinstance(value, float) and np.isnan(value) else value


def _change(runs, cell, target, key, value) -> dict:
    text = lambda v: analysis.cli_text(runs, key, v)  # noqa: E731
    return {
        "setting": cell["setting"],
        "verdict": cell["verdict"],
        "seeds": cell["seeds"],
        "change": f"{key}={text(value)}",
        "axis": key,
        "from": text(cell[key]),
        "to": text(value),
        "to_verdict": target["verdict"],
        "healthy_share": target["healthy"] / target["seeds"],
        "steady_share": target["steady"] / target["seeds"],
        "to_seeds": target["seeds"],
        "loss_before": cell["loss"],
        "loss_after": target["loss"],
        "loss_change": target["loss"] - cell["loss"],
        "accuracy_before": cell["accuracy"],
        "accuracy_after": target["accuracy"],
        "fixes": target["verdict"] == "healthy",
    }


def _ranked(changes: list[dict]) -> list[dict]:
    """A failing setting's changes: fixes first, by healthy share, then steady share
    (higher), loss change (lower) and accuracy (higher); then the rest in the sweep's
    order."""

    def order(change):
        loss = change["loss_change"]
        accuracy = change["accuracy_after"]
        return (
            -change["healthy_share"],
            -change["steady_share"],
            loss if np.isfinite(loss) else np.inf,
            -accuracy if np.isfinite(accuracy) else 0.0,
        )

    fixes = sorted([c for c in changes if c["fixes"]], key=order)
    for rank, change in enumerate(fixes, start=1):
        change["rank"] = rank
    return fixes + [{**c, "rank": None} for c in changes if not c["fixes"]]


def write(folder: Path, changes: pd.DataFrame) -> None:
    """fixes.csv, beside summary.csv."""
    table = changes.astype({"rank": "Int64"}) if len(changes) else changes
    files.write_csv(table, Path(folder) / FIXES_FILE)
