"""The user's commands end to end: real Hydra multiruns, real training, real files."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ORIGIN_STEPS, sweep

pytestmark = pytest.mark.slow  # real sweeps in subprocesses

ONE_THIRD = 1 / 3  # E[x^2] for x ~ U(-1, 1): the loss of an estimate stuck at 0


def _runs(folder):
    summary = pd.read_csv(folder / "summary.csv")
    return {(r.init, r.depth): r for r in summary.itertuples()}


def test_origin_sweep_writes_every_file(origin_sweep):
    for job in ("0", "1", "2", "3"):
        job_dir = origin_sweep / job
        for name in ("metrics.csv", "run.json", ".hydra/config.yaml"):
            assert (job_dir / name).exists(), f"{job}/{name}"
        metrics = pd.read_csv(job_dir / "metrics.csv")
        assert list(metrics.columns[:4]) == ["init", "depth", "steps", "log_every"]
        assert metrics["step"].max() == ORIGIN_STEPS
    for name in ("summary.csv", "report.html", "report.md", "heatmap_first_grad.png"):
        assert (origin_sweep / name).exists(), name


def test_summary_holds_every_resolved_setting(origin_sweep):
    summary = pd.read_csv(origin_sweep / "summary.csv")
    # unswept settings too: the question's SGD, lr, clip by value, 16 ReLU units
    assert set(summary["config/optimizer.name"]) == {"sgd"}
    assert set(summary["config/optimizer.lr"]) == {1e-3}
    assert set(summary["config/clip.name"]) == {"value"}
    assert set(summary["config/clip.threshold"]) == {4.5}
    assert set(summary["config/model.width"]) == {16}
    assert set(summary["config/model.activation"]) == {"relu"}
    assert set(summary["config/steps"]) == {ORIGIN_STEPS}
    # each init's own fields: normal reads std (1e-3), xavier its gain
    normal = summary[summary["init"] == "normal"]
    xavier = summary[summary["init"] == "xavier"]
    assert set(normal["config/init.std"]) == {1e-3}
    assert xavier["config/init.std"].isna().all()
    assert set(xavier["config/init.bias"]) == {0.1}
    assert (summary["seconds"] > 0).all()
    started = pd.to_datetime(summary["started_at"])
    assert (started.dt.tz is not None) and started.notna().all()


def test_the_report_says_how_to_run_the_sweep_again(origin_sweep):
    import importlib.metadata

    text = (origin_sweep / "report.md").read_text()
    command = (
        f"python -m sweeper -m init=normal,xavier depth=2,3 steps={ORIGIN_STEPS} "
        f"log_every=100 hydra.sweep.dir={origin_sweep}"
    )
    assert f"Command: `{command}`" in text
    assert f"sweeper {importlib.metadata.version('sweeper')}." in text
    record = json.loads((origin_sweep / "0" / "run.json").read_text())
    assert record["command"] == command
    assert record["versions"]["tensorflow"] == importlib.metadata.version("tensorflow")


def test_origin_sweep_verdicts(origin_sweep):
    runs = _runs(origin_sweep)
    assert set(runs) == {("normal", 2), ("normal", 3), ("xavier", 2), ("xavier", 3)}
    stuck = runs[("normal", 3)]
    assert stuck.verdict == "vanishing" and stuck.collapsed and stuck.vanishing
    assert abs(stuck.final_loss - ONE_THIRD) < 0.02  # no better than a constant
    assert stuck.out_spread < 1e-3  # the estimate no longer depends on x
    for depth in (2, 3):
        fixed = runs[("xavier", depth)]
        assert fixed.verdict == "healthy", fixed
        assert fixed.final_loss < 0.01


def test_depth_changes_first_layer_gradient_by_orders_of_magnitude(origin_sweep):
    runs = _runs(origin_sweep)
    factor = (
        runs[("normal", 2)].first_grad_std_init
        / runs[("normal", 3)].first_grad_std_init
    )
    assert factor > 100  # at initialization, one seed
    report = (origin_sweep / "report.md").read_text()
    assert (
        "init=normal: first-layer weight-gradient std at initialization (first "
        "batch): depth=2" in report
    )
    assert "a factor of" in report and "(one seed)" in report


def test_run_json_records_verdict_flags_and_figures(origin_sweep):
    record = json.loads((origin_sweep / "0" / "run.json").read_text())
    assert record["complete"] and record["status"] == "ok"
    assert record["settings"]["init"] == "normal" and record["settings"]["depth"] == "2"
    assert set(record["flags"]) == {
        "diverged",
        "exploding",
        "unstable",
        "vanishing",
        "dead",
        "collapsed",
    }
    assert record["outcome"] in ("learned", "stalled", "collapsed")
    assert record["figures"]["baseline_loss"] > 0.33
    assert record["config"]["init"]["std"] == 1e-3


def test_single_run_writes_its_own_report(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sweeper", "depth=2", "steps=200", "log_every=50"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()
    assert (run_dir / "metrics.csv").exists() and (run_dir / "run.json").exists()
    assert (run_dir / "report.html").exists()
    assert "report written to" in result.stdout


def test_report_rebuilds_from_files(origin_sweep, tmp_path):
    summary = origin_sweep / "summary.csv"
    before = summary.read_text()
    summary.unlink()
    subprocess.run(
        [sys.executable, "-m", "sweeper.report", str(origin_sweep)],
        check=True,
        capture_output=True,
    )
    assert summary.read_text() == before


def test_multirun_without_a_grid_runs_the_origin_grid(tmp_path):
    result = sweep(tmp_path)  # `-m` and Hydra's own hydra.sweep.dir: no setting
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert sorted(zip(summary["init"], summary["depth"])) == [
        ("normal", 2),
        ("normal", 3),
        ("xavier", 2),
        ("xavier", 3),
    ]
    assert "sweeper: report written to" in result.stdout


def test_a_swept_key_replaces_the_default_grid(tmp_path):
    sweep(tmp_path, "init=xavier", "seed=0,1", "steps=20", "log_every=0")
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert list(summary["seed"]) == [0, 1]
    assert "depth" not in summary.columns  # depth stays at its default, unswept


def test_the_terminal_gets_a_verdict_summary_and_the_job_logs_the_rest(tmp_path):
    grid = ["init=normal,xavier", "depth=2,3", "steps=300", "log_every=50"]
    result = sweep(tmp_path, *grid)
    lines = (result.stdout + result.stderr).strip().splitlines()
    ours = [line for line in lines if line.startswith("sweeper: ")]
    assert ours[0] == "sweeper: writing the report of 4 runs"
    assert ours[1].startswith("sweeper: 4 runs: ")
    assert ours[-1] == f"sweeper: report written to {tmp_path / 'report.html'}"
    assert len(lines) <= 10  # a few lines of Hydra's, then ours: not lines per job
    assert not [line for line in lines if "#0 :" in line or "INFO] - ok:" in line]
    # each job's own log keeps its line
    assert "ok: " in next((tmp_path / "0").glob("*.log")).read_text()


def test_a_single_run_prints_its_verdict_and_figures(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sweeper", "steps=300", f"hydra.run.dir={tmp_path}"],
        capture_output=True,
        text=True,
        check=True,
    )
    first = result.stdout.splitlines()[1]  # after "sweeper: writing the report"
    assert first.startswith(
        "sweeper: vanishing — at initialization the first layer receives 1/"
    )
    assert "of the readout's per-example signal" in first
    assert "it collapsed: loss 0.3" in first  # the question's net learns nothing


def test_any_override_turns_the_default_grid_off(tmp_path):
    # Hydra's own semantics: -m with one value per key is a sweep of one job
    sweep(tmp_path, "optimizer=adam", "steps=20", "log_every=0")
    assert [p.name for p in tmp_path.glob("*/run.json")] == ["run.json"]


def test_a_sweep_in_yaml_runs_as_written(tmp_path):
    # hydra.sweeper.params in a primary config of one's own: its grid, no default grid
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "experiment.yaml").write_text(
        "defaults:\n  - config\n  - _self_\nsteps: 20\nlog_every: 0\n"
        "hydra:\n  sweeper:\n    params:\n      optimizer: sgd,adam\n"
    )
    mine = ["--config-dir", str(tmp_path / "mine"), "--config-name", "experiment"]
    sweep(tmp_path, *mine)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert sorted(summary["optimizer"]) == ["adam", "sgd"]
    assert "init" not in summary.columns


def test_a_glob_sweeps_every_option_of_a_group(tmp_path):
    sweep(tmp_path, "init=glob(he_*)", "steps=20", "log_every=0")
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert sorted(summary["init"]) == ["he_normal", "he_uniform"]
