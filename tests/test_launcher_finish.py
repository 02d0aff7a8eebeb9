"""The batched launcher's per-job bookkeeping (finish.py) against Hydra's `run_job`:
the same `.hydra/` files, HydraConfig, environment, callbacks and JobReturn."""

import logging
import os
import shutil
from pathlib import Path

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import run_job
from hydra.types import HydraContext, RunMode
from omegaconf import OmegaConf, open_dict

import sweeper.cli.store  # noqa: F401  (registers config_schema, as the CLI does)
from hydra_plugins.sweeper_launcher import finish

CONF = Path(__file__).parents[1] / "conf"
JOB = ["depth=3", "init=xavier", "seed=2", "+hydra.job.env_set.SWEEPER_TEST=yes"]


class Listener:
    """Hydra's callbacks interface, recording what it is told."""

    def __init__(self):
        self.events = []

    def on_job_start(self, config, task_function):
        self.events.append(("start", config.hydra.job.num, task_function.__name__))

    def on_job_end(self, config, job_return):
        self.events.append(("end", config.hydra.job.num, job_return.status.name))


def task(cfg):
    """What a task sees: its config, HydraConfig, the environment, the folder."""
    logging.getLogger("task").info("a line for the job's log")
    hydra = HydraConfig.get()
    seen = {
        "cfg": OmegaConf.to_container(cfg, resolve=False),
        "output_dir": hydra.runtime.output_dir,
        "num": hydra.job.num,
        "env": os.environ.get("SWEEPER_TEST"),
        "cwd": os.getcwd(),
        # set_config parents HydraConfig's hydra node to the job's whole config, so
        # ${...} in it resolves against the config
        "hydra_parent": sorted(HydraConfig.instance().cfg.hydra._get_parent().keys()),
    }
    return seen


@pytest.fixture
def jobs(tmp_path):
    """Two copies of one composed, numbered sweep job, and Hydra's context."""
    state = Singleton.get_state()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration(
            "config", [f"hydra.sweep.dir={tmp_path}/sweep"], RunMode.MULTIRUN
        )
        HydraConfig.instance().set_config(master)
        copies = []
        for _ in range(2):
            config = loader.load_sweep_config(master, list(JOB))
            with open_dict(config):
                config.hydra.job.id = config.hydra.job.num = 7
            copies.append(config)
        yield copies, loader
    Singleton.set_state(state)


def test_finish_does_what_run_job_does(jobs, tmp_path):
    (hydras, ours), loader = jobs
    folder = tmp_path / "sweep" / "7"
    done = {}
    for label, config in (("hydra", hydras), ("ours", ours)):
        listener = Listener()
        if label == "ours":  # set when the job is checked, earlier
            finish.set_output_dir(config, "hydra.sweep.dir", "hydra.sweep.subdir")
            assert not finish.changes_directory(config)
        HydraConfig.instance().set_config(hydras)  # what HydraConfig held before
        before = HydraConfig.instance().cfg
        if label == "hydra":
            ret = run_job(
                task_function=task,
                config=config,
                job_dir_key="hydra.sweep.dir",
                job_subdir_key="hydra.sweep.subdir",
                hydra_context=HydraContext(config_loader=loader, callbacks=listener),
            )
        else:
            ret = finish.finish(config, task, listener)
        assert HydraConfig.instance().cfg is before  # restored after the job
        files = {p.name: p.read_bytes() for p in (folder / ".hydra").iterdir()}
        log = (folder / f"{ret.task_name}.log").read_text()
        done[label] = (ret, files, log, listener.events)
        shutil.rmtree(folder)  # the second writes into an empty folder again

    (theirs, their_files, their_log, their_events) = done["hydra"]
    (mine, my_files, my_log, my_events) = done["ours"]
    assert sorted(my_files) == ["config.yaml", "hydra.yaml", "overrides.yaml"]
    assert my_files == their_files  # byte for byte
    assert "a line for the job's log" in my_log and "a line" in their_log
    assert my_events == their_events == [("start", 7, "task"), ("end", 7, "COMPLETED")]
    assert mine.return_value == theirs.return_value
    assert mine.return_value["env"] == "yes" and "SWEEPER_TEST" not in os.environ
    assert mine.return_value["output_dir"] == str(folder)
    for field in ("overrides", "working_dir", "task_name", "status"):
        assert getattr(mine, field) == getattr(theirs, field), field
    for field in ("cfg", "hydra_cfg"):
        a, b = getattr(mine, field), getattr(theirs, field)
        assert OmegaConf.to_container(a) == OmegaConf.to_container(b), field
        assert OmegaConf.get_type(a) is OmegaConf.get_type(b), field
    assert OmegaConf.is_readonly(mine.hydra_cfg.hydra)
    hydra_type = OmegaConf.get_type(theirs.hydra_cfg, "hydra")
    assert OmegaConf.get_type(mine.hydra_cfg, "hydra") is hydra_type
    assert mine.hydra_cfg.hydra is not ours.hydra  # a copy, as run_job's
    assert OmegaConf.is_struct(mine.cfg) == OmegaConf.is_struct(theirs.cfg)


@pytest.mark.slow
def test_a_sweep_whose_jobs_change_directory_goes_through_run_job(tmp_path):
    """hydra.job.chdir=true: each job is finished by run_job itself, which changes
    into the job's folder; the files and the report are as for any sweep."""
    from conftest import sweep

    grid = ["depth=2,3", "steps=20", "log_every=10", "hydra.job.chdir=true"]
    sweep(tmp_path, *grid)
    for job in ("0", "1"):
        hydra = tmp_path / job / ".hydra"
        assert sorted(p.name for p in hydra.iterdir()) == [
            "config.yaml",
            "hydra.yaml",
            "overrides.yaml",
        ]
        assert "chdir: true" in (hydra / "hydra.yaml").read_text()
        assert (tmp_path / job / "metrics.csv").is_file()
    assert (tmp_path / "report.html").is_file()
