"""The batched launcher against the per-job path: same files, same verdicts.

A run's numbers do not depend on the group it trains in (the engine trains a lone
run beside a copy of itself so that every program is a batched one), so the files of
the two paths must be byte-identical, not merely close.
"""

import dataclasses
import io

import pandas as pd
import pytest

from conftest import sweep
from sweeper.sweep.progress import Progress

MIXED = [
    "depth=2,3",
    "init=normal,xavier,he_normal",
    "optimizer.lr=1e-3,1e-2",
    "seed=0,1",
    "steps=300",
    "log_every=50",
]


@pytest.fixture(scope="module")
def both_paths(tmp_path_factory):
    per_job = tmp_path_factory.mktemp("per_job")
    batched = tmp_path_factory.mktemp("batched")
    sweep(per_job, *MIXED, "hydra/launcher=basic")
    sweep(batched, *MIXED)  # the default multirun launcher
    return per_job, batched


@pytest.mark.slow
def test_batched_files_equal_per_job_files(both_paths):
    per_job, batched = both_paths
    for job in range(24):
        a = (per_job / str(job) / "metrics.csv").read_bytes()
        b = (batched / str(job) / "metrics.csv").read_bytes()
        assert a == b, job
        assert (batched / str(job) / ".hydra" / "overrides.yaml").read_text() == (
            per_job / str(job) / ".hydra" / "overrides.yaml"
        ).read_text()


@pytest.mark.slow
def test_batched_verdicts_equal_per_job_verdicts(both_paths):
    per_job, batched = both_paths
    a = pd.read_csv(per_job / "summary.csv")
    b = pd.read_csv(batched / "summary.csv")
    assert len(a) == 24
    columns = ["depth", "init", "optimizer.lr", "seed", "status", "verdict"]
    pd.testing.assert_frame_equal(a[columns], b[columns])
    assert a["verdict"].nunique() > 1  # the grid mixes outcomes, not all one verdict


@pytest.mark.slow
def test_a_diverging_run_does_not_touch_its_group(tmp_path):
    grid = ["init=xavier", "depth=3", "clip=none", "steps=200", "log_every=50"]
    stacked = tmp_path / "stacked"
    alone = tmp_path / "alone"
    stacked.mkdir()
    alone.mkdir()
    # One group: the runs differ only in per-run tensors (lr, seed).
    sweep(stacked, *grid, "optimizer.lr=1e-3,1e3", "seed=0,1")
    sweep(alone, *grid, "optimizer.lr=1e-3", "seed=0,1", "hydra/launcher=basic")
    summary = pd.read_csv(stacked / "summary.csv")
    diverged = summary[summary["optimizer.lr"] == 1e3]
    assert (diverged["status"] == "diverged").all()
    assert diverged["diverged_at"].notna().all()
    for seed, solo_job in ((0, 0), (1, 1)):
        row = summary[(summary["optimizer.lr"] == 1e-3) & (summary["seed"] == seed)]
        job = str(row["job"].item())
        a = (alone / str(solo_job) / "metrics.csv").read_bytes()
        b = (stacked / job / "metrics.csv").read_bytes()
        assert a == b


@pytest.mark.slow
def test_runs_of_other_optimizers_share_a_group_and_equal_their_solo_files(tmp_path):
    grid = ["init=he_normal", "depth=3", "clip=global_norm", "steps=300"]
    # no slots, two slots, one slot that does not start at zero (all five: test_engine)
    optimizers = "optimizer=sgd,adam,adagrad"
    mixed, alone = tmp_path / "mixed", tmp_path / "alone"
    mixed.mkdir()
    alone.mkdir()
    sweep(mixed, *grid, optimizers, "seed=0,1", "hydra.launcher.workers=1")
    sweep(alone, *grid, optimizers, "seed=0,1", "hydra/launcher=basic")
    for job in range(6):
        record = (mixed / str(job) / "run.json").read_text()
        assert '"group_size": 6' in record  # all six in one program
        a = (alone / str(job) / "metrics.csv").read_bytes()
        assert (mixed / str(job) / "metrics.csv").read_bytes() == a, job


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_on_a_terminal_and_is_quiet_otherwise():
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress([2.0, 1.0, 1.0], [2, 1, 1], stream=stream)
        progress.started(0)
        progress.started(1)
        progress.finished_group(1)
        progress.started(2)
        progress.finished_group(0)
        progress.finished_group(2)
    text = terminal.getvalue()
    assert "sweeper: 2 of 3 groups compiling or training, 0 done; 0/4 runs [" in text
    assert "1 of 3 groups compiling or training, 1 done; 1/4 runs [######" in text
    assert "ETA ~" in text
    assert "0 of 3 groups compiling or training, 3 done; 4/4 runs [#####" in text
    assert text.endswith("\n")  # what follows starts on a line of its own
    assert pipe.getvalue() == ""


def test_the_eta_scales_the_estimates_of_the_groups_left_by_the_ones_done():
    progress = Progress([3.0, 1.0], [5, 1], stream=io.StringIO())
    assert progress.eta() is None  # nothing to scale by before a group ends
    progress.start -= 10.0  # 10 s ago
    progress.finished_group(1)  # estimated 1 s, took 10: the other's 3 s are ~30 s
    assert progress.eta() == pytest.approx(30.0, rel=0.01)


def test_plan_hands_out_the_costliest_groups_first():
    from sweeper.config.schema import Config, ModelConfig, OptimizerConfig
    from sweeper.sweep import plan as groups

    def cfg(depth, optimizer, seed):
        return Config(depth=depth, optimizer=OptimizerConfig(name=optimizer), seed=seed)

    cfgs = [cfg(d, o, s) for d in (2, 6) for o in ("sgd", "adam") for s in range(3)]
    cfgs.append(cfg(3, "sgd", 0))
    cfgs.append(dataclasses.replace(cfgs[0], model=ModelConfig(width=64)))
    plan = groups.plan(cfgs, memory_mb=1024, parts=2)
    # one group per shape, whatever the runs' optimizers
    assert sorted(plan) == [list(range(6)), list(range(6, 12)), [12], [13]]
    # deeper compiles longer; compile, not a few runs' steps, is most of a small
    # group's time: the lone depth-3 run before the 6 runs at depth 2 of one optimizer
    assert plan[0] == list(range(6, 12))
    costs = [groups.seconds([cfgs[i] for i in group]) for group in plan]
    assert costs == sorted(costs, reverse=True)
    assert groups.seconds(cfgs[12:13]) > groups.seconds(cfgs[0:3])
    # more optimizers, more optimizer state: more to compile and to step
    sgd, adam, both = cfgs[0:3], cfgs[3:6], cfgs[0:6]
    assert groups.seconds(both) > groups.seconds(adam) > groups.seconds(sgd)


def test_the_last_group_trains_in_halves_when_others_train_beside_it():
    """The parent writes the jobs of the groups that end last after all training: the
    cheapest group, planned last, comes as two halves of one program."""
    from sweeper.config.schema import Config
    from sweeper.sweep import plan as groups

    cfgs = [Config(depth=d, seed=s) for d in (2, 3, 6) for s in range(40)]
    plan = groups.plan(cfgs, memory_mb=1024, parts=2)
    assert plan[:2] == [list(range(80, 120)), list(range(40, 80))]  # deepest first
    assert plan[2:] == [list(range(20)), list(range(20, 40))]  # depth 2, halved
    # as many groups as workers: nothing trains beside the last, it stays whole
    assert sorted(groups.plan(cfgs[:80], memory_mb=1024, parts=2)) == [
        list(range(40)),
        list(range(40, 80)),
    ]
    few = [Config(depth=d, seed=s) for d in (2, 3, 6) for s in range(20)]
    assert len(groups.plan(few, memory_mb=1024, parts=2)) == 3  # too few to halve


def test_a_plan_of_no_runs_is_empty():
    from sweeper.sweep.plan import plan

    # resume=true of a sweep whose every job is complete leaves nothing to train
    assert plan([], memory_mb=1024, parts=2) == []
