"""What fixes each failing setting: report/fixes.py, and the answer the report opens.

On a synthetic sweep whose verdicts are set per run, the expected fixes are counted by
hand from the grid below; on real sweeps, from summary.csv with pandas in the test.
"""

import pandas as pd
import pytest

from conftest import sweep
from synthetic import write_sweep
from sweeper.report import build

GRID = {"init": ["normal", "xavier", "he"], "depth": [2, 4, 6]}
SEEDS = [0, 1, 2]
# each setting's three seeds, in job order (init slowest, then depth, then seed)
PER_SEED = {
    ("normal", 2): ["vanishing", "vanishing", "healthy"],  # vanishing, 2 of 3
    ("normal", 4): ["vanishing"] * 3,
    ("normal", 6): ["vanishing"] * 3,
    ("xavier", 2): ["healthy"] * 3,
    ("xavier", 4): ["healthy", "dead", "dead"],  # dead, 2 of 3
    ("xavier", 6): ["healthy", "dead", "failed"],  # a three-way tie: the worst, failed
    ("he", 2): ["healthy"] * 3,
    ("he", 4): ["dead", "dead", "healthy"],
    ("he", 6): ["dead", "healthy", "healthy"],  # healthy, 2 of 3
}
# By hand: each failing setting's single changes to a healthy setting, best first
# (3/3 healthy before 2/3); "normal/2"'s two 3/3 fixes are ordered by loss in the test.
EXPECTED = {
    "init=normal depth=2": {"init=xavier", "init=he"},
    "init=normal depth=4": [],  # xavier/4 and he/4 are dead, depths 2 and 6 vanishing
    "init=normal depth=6": ["init=he"],
    "init=xavier depth=4": ["depth=2"],
    "init=xavier depth=6": ["depth=2", "init=he"],
    "init=he depth=4": ["depth=2", "depth=6"],
}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixed")
    verdicts = [v for setting in PER_SEED.values() for v in setting]
    write_sweep(folder, GRID, seeds=SEEDS, verdicts=verdicts, steps=200, log_every=20)
    build.build(folder)
    return folder


def test_fixes_csv_holds_the_hand_counted_fixes(mixed):
    fixes = pd.read_csv(mixed / "fixes.csv")
    summary = pd.read_csv(mixed / "summary.csv")
    assert list(dict.fromkeys(fixes["setting"])) == list(EXPECTED)  # job order
    for setting, expected in EXPECTED.items():
        mine = fixes[fixes["setting"] == setting]
        found = list(mine.loc[mine["fixes"], "change"])
        assert list(mine["rank"].dropna()) == list(range(1, len(found) + 1))
        if isinstance(expected, set):  # equally reliable: the lower median loss first
            assert set(found) == expected

            def loss(change, setting=setting):
                key, value = change.split("=")
                cell = dict(p.split("=") for p in setting.split())
                cell[key] = value
                runs = summary[
                    (summary["init"] == cell["init"])
                    & (summary["depth"] == int(cell["depth"]))
                ]
                return runs.loc[runs["status"] != "failed", "final_loss"].median()

            expected = sorted(expected, key=loss)
        assert found == expected, setting
    # every measured change is listed, each with its target's share of healthy seeds
    assert len(fixes) == 6 * 4  # six failing settings, four neighbours each
    row = fixes[
        (fixes["setting"] == "init=xavier depth=6") & (fixes["change"] == "init=he")
    ]
    assert row["healthy_share"].iloc[0] == pytest.approx(2 / 3)
    assert row["to_verdict"].iloc[0] == "healthy" and row["to_seeds"].iloc[0] == 3
    row = fixes[
        (fixes["setting"] == "init=normal depth=4") & (fixes["change"] == "init=xavier")
    ]
    assert row["to_verdict"].iloc[0] == "dead" and not row["fixes"].iloc[0]


def test_the_report_opens_with_the_answer(mixed):
    lines = (mixed / "report.md").read_text().splitlines()
    assert lines[2] == "## The answer"
    assert lines[4].startswith("6 of 9 settings fail (3 vanishing, 2 dead, 1 failed)")
    opening = "\n".join(lines).split("## What was swept")[0]
    assert "No single change in this sweep fixes init=normal depth=4." in lines[4]
    assert "| init=xavier depth=6 | failed (1/3) | depth=2 (3/3; " in opening
    assert "| init=normal depth=4 | vanishing (3/3) | none in this sweep |" in opening


@pytest.mark.slow
def test_the_origin_sweep_names_xavier_as_the_fix_and_depth_2_as_another(tmp_path):
    sweep(tmp_path, "init=normal,xavier", "depth=2,3")  # the README's run command
    first = (tmp_path / "report.md").read_text().split("## What was swept")[0]
    assert "init=normal depth=3 is **vanishing**" in first
    assert "Fix: init=xavier, holding depth=3" in first
    assert "also depth=2" in first


# Verdicts worst first (README, "Verdicts"): a tie between seeds goes to the worse
WORST_FIRST = ["failed", "diverged", "exploding", "unstable", "vanishing", "dead"]
WORST_FIRST += ["collapsed", "healthy"]
AXES = ["init", "depth", "optimizer"]


def _by_hand(summary: pd.DataFrame) -> dict:
    """Each failing setting's fixes, best first, counted from summary.csv."""
    cells = {}
    for values, runs in summary.groupby(AXES, sort=False):
        counts = runs["verdict"].value_counts()
        tied = counts[counts == counts.max()].index
        started = (runs["signal_decades"] < -1) & (runs["signal_decades_early"] < -1)
        cells[values] = {
            "verdict": min(tied, key=WORST_FIRST.index),
            "share": (runs["verdict"] == "healthy").mean(),
            "steady": ((runs["verdict"] == "healthy") & ~started).mean(),
            "loss": runs.loc[runs["status"] != "failed", "final_loss"].median(),
        }
    found = {}
    for values, cell in cells.items():
        if cell["verdict"] == "healthy":
            continue
        label = " ".join(f"{k}={v}" for k, v in zip(AXES, values))
        fixes = []
        for index, key in enumerate(AXES):
            for other in summary[key].unique():
                moved = list(values)
                moved[index] = other
                target = cells.get(tuple(moved))
                if other != values[index] and target and target["verdict"] == "healthy":
                    order = (-target["share"], -target["steady"], target["loss"])
                    fixes.append((order, f"{key}={other}"))
        found[label] = [change for _, change in sorted(fixes)]
    return found


@pytest.mark.slow
def test_a_real_sweeps_fixes_match_a_count_from_its_summary(tmp_path):
    grid = ["task=gaussian", "task.input_dim=16", "task.batch_size=16"]
    grid += ["init=normal,xavier,he_normal", "depth=2,6", "optimizer=sgd,adam"]
    grid += ["optimizer.lr=0.01", "seed=0,1", "steps=300", "log_every=30"]
    sweep(tmp_path, *grid)
    summary = pd.read_csv(tmp_path / "summary.csv")
    fixes = pd.read_csv(tmp_path / "fixes.csv")
    expected = _by_hand(summary)
    assert expected, "the grid has failing settings"
    assert list(dict.fromkeys(fixes["setting"])) == list(expected)
    for setting, changes in expected.items():
        mine = fixes[(fixes["setting"] == setting) & fixes["fixes"]]
        assert list(mine["change"]) == changes, setting
