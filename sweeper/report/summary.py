"""summary.csv, the stable one-row-per-run contract of a sweep folder.

Columns, in order (README, "Output files"):
- the swept keys, as typed on the command line;
- `job`, `status`, `verdict`, `outcome`, one boolean per flag, the figures,
  `diverged_at`, `diverged_in`, `error`, the mean-field prediction (`theory_q_star`,
  `theory_chi1`, `theory_slope`, `theory_phase`; empty where it does not apply);
- `started_at` (UTC, when the run's group started training) and `seconds` (that
  group's wall time: the runs of a group train at once, so they share it);
- `config/<key>` for every resolved setting, swept or not (`config/optimizer.lr`,
  `config/model.width`, ...), so the summaries of two sweeps concatenate.
"""

from pathlib import Path

import pandas as pd

from sweeper.record import files
from sweeper.record.verdict import FLAGS
from sweeper.report.analysis import (
    CONFIG,
    FIGURES,
    THEORY,
    cli_text,
    load_runs,
    swept_keys,
)

SUMMARY_FILE = "summary.csv"
RESULT_COLUMNS = ("job", "status", "verdict", "outcome", *FLAGS, *FIGURES)
RESULT_COLUMNS += ("diverged_at", "diverged_in", "error")
RESULT_COLUMNS += tuple(THEORY)
RUN_COLUMNS = ("started_at", "seconds")


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The summary.csv table of a `load_runs` table."""
    keys = swept_keys(runs)
    table = pd.DataFrame({k: [cli_text(runs, k, v) for v in runs[k]] for k in keys})
    config = [c for c in runs.columns if c.startswith(CONFIG)]
    for column in [*RESULT_COLUMNS, *RUN_COLUMNS, *config]:
        table[column] = runs[column].to_numpy() if column in runs else []
    return table


def write_summary(folder: Path, runs: pd.DataFrame | None = None) -> Path:
    """Write summary.csv, one row per complete run, into the folder; return its path.

    `runs`: the table to write (by default every run of the folder).
    """
    if runs is None:
        runs, _ = load_runs(folder)
    path = Path(folder) / SUMMARY_FILE
    files.write_csv(summary_table(runs), path)
    return path
