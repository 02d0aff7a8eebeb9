"""Results as DataFrames: `sweeper.results.load(folder, ...)`.

    from sweeper import results
    res = results.load("outputs/sweeps/2026-12-01_10-00-00")
    res.runs                  # one row per run: the summary.csv columns
    res.metrics()             # one row per run x logged step x layer
    results.load(a, b).runs   # two sweeps, one table, a `sweep` column first

In the spirit of Optuna's `trials_dataframe()` and Ray Tune's `ResultGrid`: read from
the per-run files (run.json, metrics.csv), so it works on a partial sweep too and needs
no report.
"""

import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sweeper.record.files import FLOAT_FORMAT
from sweeper.report import analysis
from sweeper.report.summary import summary_table


@dataclass
class Results:
    """The complete runs of one or more run or sweep folders."""

    folders: list[Path]
    runs: pd.DataFrame  # summary.csv's columns (README, "Output files"); `sweep` first
    # per folder: {job: what is wrong} for run-like dirs with no complete, sound run
    incomplete: dict = field(default_factory=dict)

    def metrics(self) -> pd.DataFrame:
        """Every run's metrics.csv, long format, with `sweep` and `job` first.

        Failed runs have none. Settings columns are those each run's own file has.
        """
        tables = []
        for folder in self.folders:
            runs, _ = analysis.load_runs(folder)
            table = analysis.load_metrics(folder, runs)
            table.insert(0, "sweep", str(folder))
            tables.append(table)
        return pd.concat(tables, ignore_index=True)


def load(*folders: str | Path) -> Results:
    """Load run or sweep folders (as `python -m sweeper` writes them).

    Parameters
    ----------
    folders
        One or more sweep dirs (job subdirs 0/, 1/, ...) or single-run dirs.

    Returns
    -------
    Results
        `runs`: one row per complete run of every folder, in folder then job order,
        with a `sweep` column (the folder as given) before summary.csv's columns; the
        swept-key columns are the union over folders (empty where a folder did not
        sweep a key: its value is then in `config/<key>`).
    """
    if not folders:
        raise ValueError("results.load needs at least one folder")
    tables, incomplete = [], {}
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise FileNotFoundError(f"no such folder: {folder}")
        runs, unfinished = analysis.load_runs(folder)
        # Through CSV text, as summary.csv is written: the table equals what reading
        # that file gives (numbers typed, empty cells NaN), job names as text.
        text = summary_table(runs).to_csv(index=False, float_format=FLOAT_FORMAT)
        table = pd.read_csv(io.StringIO(text), dtype={"job": str})
        table.insert(0, "sweep", str(folder))
        tables.append(table)
        incomplete[str(folder)] = unfinished
    runs = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    return Results([Path(f) for f in folders], runs, incomplete)
