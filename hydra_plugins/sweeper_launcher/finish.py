"""Hydra's `run_job` for a job sweeper has trained and written already, with fewer
copies of its config.

`hydra.core.utils.run_job` copies a job's config five times (two masked copies of its
`hydra` node for HydraConfig, a deep copy of the whole config to drop `hydra` from it,
a deep copy of the `hydra` copy) and writes its three `.hydra/` files: for a sweep of
hundreds of jobs, the largest part of the parent's work. Here the output folder is set
when the job's config is checked (`set_output_dir`), one pickled copy makes both the
task's config and HydraConfig's view of the hydra node (also the JobReturn's), and the
rest is `run_job`'s, step for step: the same files (their text mostly reused from the
jobs before, yaml_text.py), log set-up, environment, callbacks and JobReturn.
tests/test_launcher_finish.py holds it against `run_job`.
"""

import logging
import os
import pickle
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import (
    JobReturn,
    JobRuntime,
    JobStatus,
    configure_log,
    env_override,
)
from hydra.conf import HydraConf
from omegaconf import DictConfig, OmegaConf, flag_override, open_dict, read_write

from hydra_plugins.sweeper_launcher import yaml_text


def set_output_dir(config: DictConfig, job_dir_key: str, job_subdir_key: str) -> str:
    """Set the job's `hydra.runtime.output_dir` as run_job sets it (absolute), leave
    HydraConfig on the config (for ${hydra:...} in it, while it is checked), and
    return the folder as the config names it."""
    # The config itself, not run_job's masked copy of its `hydra` node: HydraConfig
    # reads only that node, and the copy is made once, when the job is finished.
    HydraConfig.instance().cfg = config
    output_dir = str(OmegaConf.select(config, job_dir_key))
    output_dir = os.path.join(output_dir, str(OmegaConf.select(config, job_subdir_key)))
    with read_write(config.hydra.runtime), open_dict(config.hydra.runtime):
        config.hydra.runtime.output_dir = os.path.abspath(output_dir)
    return output_dir


def changes_directory(config: DictConfig) -> bool:
    """Whether run_job would change into the job's folder (then it runs the job)."""
    return config.hydra.job.chdir is not False


def finish(config: DictConfig, task_function, callbacks) -> JobReturn:
    """run_job's steps for a job whose output folder is set (`set_output_dir`) and
    that keeps its working directory."""
    orig_hydra_cfg = HydraConfig.instance().cfg
    task_cfg, view = _task_config_and_view(config)
    HydraConfig.instance().cfg = view
    try:
        ret = JobReturn()
        ret.cfg = task_cfg
        ret.hydra_cfg = view
        ret.overrides = OmegaConf.to_container(config.hydra.overrides.task)
        output_dir = config.hydra.runtime.output_dir
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        ret.working_dir = os.getcwd()
        configure_log(config.hydra.job_logging, config.hydra.verbose)
        if config.hydra.output_subdir is not None:
            hydra_output = Path(output_dir) / Path(config.hydra.output_subdir)
            _save_config(task_cfg, "config.yaml", hydra_output)
            _save_config(view, "hydra.yaml", hydra_output)
            _save_config(config.hydra.overrides.task, "overrides.yaml", hydra_output)
        with env_override(view.hydra.job.env_set):
            callbacks.on_job_start(config=config, task_function=task_function)
            try:
                ret.return_value = task_function(task_cfg)
                ret.status = JobStatus.COMPLETED
            except Exception as e:
                ret.return_value = e
                ret.status = JobStatus.FAILED
        ret.task_name = JobRuntime.instance().get("name")
        _flush_loggers()
        callbacks.on_job_end(config=config, job_return=ret)
        return ret
    finally:
        HydraConfig.instance().cfg = orig_hydra_cfg


def _task_config_and_view(config: DictConfig) -> tuple[DictConfig, DictConfig]:
    """run_job's two copies of a job's config: the task's (a deep copy less the hydra
    node) and HydraConfig's (`set_config`'s masked copy of the hydra node, parented to
    the config), from one pickled copy, whose hydra node moves to the view instead of
    being copied a second time."""
    OmegaConf.set_readonly(config.hydra, True)  # HydraConfig.set_config's steps
    hydra_type = OmegaConf.get_type(config, "hydra")
    assert hydra_type is not None and issubclass(hydra_type, HydraConf)
    task_cfg = pickle.loads(pickle.dumps(config))  # = run_job's deep copy
    hydra = task_cfg.hydra
    with read_write(task_cfg), open_dict(task_cfg):
        del task_cfg["hydra"]
    view = DictConfig({})
    with flag_override(view, "no_deepcopy_set_nodes", True):
        view.hydra = hydra
    view.hydra._set_parent(config)  # as set_config: ${...} in it reads the config
    return task_cfg, view


def _save_config(cfg, filename: str, output_dir: Path) -> None:
    """hydra.core.utils._save_config, with the text of blocks that an earlier job
    wrote the same reused (yaml_text)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    with open(str(output_dir / filename), "w", encoding="utf-8") as file:
        file.write(yaml_text.to_yaml(cfg))


def _flush_loggers() -> None:
    """hydra.core.utils._flush_loggers: logging has no API to flush every handler."""
    for handler in logging._handlerList:  # type: ignore[attr-defined]
        try:
            handler().flush()
        except Exception:
            pass
