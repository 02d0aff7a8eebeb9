"""A job's files, and its training alone (the per-job path; a group's training is
group.py's); no exception escapes.

Hydra skips `on_multirun_end` (and so the report) when a job raises, so every failure is
recorded as status `failed` in the job's run.json instead.
"""

import dataclasses
from datetime import datetime, timezone
import time
import logging
import traceback
from dataclasses import dataclass
from pathlib import Path

from sweeper.config.schema import SWEEP_KEYS, Config
from sweeper import theory
from sweeper.record import files, validate, verdict
from sweeper.sweep.group import Outcome, train_group

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One run to write: its typed config, its output folder and its swept settings."""

    cfg: Config
    out_dir: Path
    settings: dict  # key as on the CLI -> value, e.g. {"init": "xavier"}
    command: str = ""  # the command line that ran it, to reproduce it


def recorded_config(cfg: Config) -> dict:
    """A run's config as run.json records it: for model=keras, the model node holds
    only what a Keras model reads (name, build, settings), not the MLP's options."""
    config = dataclasses.asdict(cfg)
    if cfg.model.name == "keras":
        config["model"] = {k: config["model"][k] for k in ("name", "build", "settings")}
    return config


def config_hash(cfg: Config) -> str:
    """Stable fingerprint of what a run is: its full config minus the SWEEP_KEYS."""
    return files.config_hash(_identity(recorded_config(cfg)))


def _identity(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in SWEEP_KEYS}


def is_done(job: Job) -> bool:
    """With `resume`, whether the job's dir already holds this run, complete.

    A run of another config in the same dir is never taken for this one, nor a
    damaged one.
    """
    if not job.cfg.resume:
        return False
    record = validate.check_run(job.out_dir).record
    if record is None or record.get("config_hash") != config_hash(job.cfg):
        return False
    return record["status"] != "failed" or not job.cfg.resume_failed


def run_job(job: Job) -> None:
    """Train one job alone and write its files (the per-job path), unless it is done."""
    if not is_done(job):
        write(job, train_group([job.cfg])[0])


def write(job: Job, outcome: Outcome) -> None:
    """Write a job's metrics.csv and run.json; a failure to do so is itself recorded."""
    out_dir = Path(job.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if outcome.result is not None:
        try:
            _write_result(job, outcome, out_dir)
            return
        except Exception:
            outcome = Outcome(None, error=traceback.format_exc())
    try:
        _write_failure(job, outcome.error or "unknown error", out_dir)
    except OSError as exc:  # e.g. a folder named run.json: left, and listed damaged
        log.error(f"sweeper: cannot write the run.json of {out_dir}: {exc}")


def _base_record(job: Job) -> dict:
    config = recorded_config(job.cfg)
    return files.run_head(job.settings, config, job.command, _identity(config))


def _write_result(job: Job, outcome: Outcome, out_dir: Path) -> None:
    start = time.perf_counter()
    result, index = outcome.result, outcome.index
    layer = {name: values[:, index] for name, values in result.layer.items()}
    run = {name: values[:, index] for name, values in result.run.items()}
    metrics = out_dir / files.METRICS_FILE
    files.write_metrics(result.steps, layer, run, job.settings, metrics)
    diverged_at = int(result.diverged_at[index])
    judged = verdict.assess(
        layer, run, result.steps, result.baseline_loss, diverged_at, job.cfg.verdict
    )
    variances = init_variances(job.cfg)
    names = layer_names(job.cfg)
    if job.cfg.tensorboard:  # loads TensorFlow in the process that writes
        from sweeper.record import tensorboard

        tensorboard.write_events(
            out_dir, result, index, job.settings, judged["verdict"], judged["figures"]
        )
    record = {
        "init_variances": variances,
        **({"layer_names": names} if names else {}),
        "theory": theory_of(job.cfg, variances),
        **judged,
        "diverged_in": (result.diverged_in or [None] * (index + 1))[index],
        "error": None,
        "timings": {
            "started_at": datetime.fromtimestamp(
                result.started, timezone.utc
            ).isoformat(timespec="seconds"),
            "group_seconds": result.seconds,
            "compiled": result.compiled,
            "group_size": outcome.size,
            "write_seconds": time.perf_counter() - start,
        },
    }
    files.write_json({**_base_record(job), **record}, out_dir / files.RUN_FILE)


def layer_names(cfg: Config) -> list[str] | None:
    """A Keras model's measured layers by their Keras names (None for sweeper's)."""
    if cfg.model.name != "keras":
        return None
    from sweeper.train.components import model_of, task_of

    return list(model_of(cfg, task_of(cfg)).layer_names)


def init_variances(cfg: Config) -> dict:
    """sigma_w2 and sigma_b2 per layer of the run's init (train.initializers); none
    for a Keras model (its layers need not be Dense)."""
    if cfg.model.name == "keras":
        return {}
    from sweeper.train.components import model_of, task_of
    from sweeper.contract import KERNEL
    from sweeper.train.initializers import layer_variances

    specs = model_of(cfg, task_of(cfg)).param_specs()
    return layer_variances(cfg.init, [s.shape for s in specs if s.role == KERNEL])


def theory_of(cfg: Config, variances: dict) -> dict:
    """The mean-field prediction for the run's net at initialization (sweeper.theory),
    from its `init_variances`, or why there is none."""
    import numpy as np

    from sweeper.train.components import task_of

    model, init = cfg.model, cfg.init
    why = None
    if model.name == "keras":
        why = "a Keras model of one's own (the theory here is for sweeper's MLP)"
    elif model.residual or model.norm != "none":
        why = "a residual or normalized net"
    elif init.name != "scaled" and init.bias != 0 and not init.bias_like_weights:
        why = f"a constant bias ({init.bias:g}) is not a random one"
    elif model.activation not in theory.ACTIVATIONS:
        why = f"no mean-field maps for {model.activation}"
    if why is None:
        q_input = float(np.mean(np.square(task_of(cfg).probe()[0])))
        prediction = theory.predict(
            model.activation, variances["sigma_w2"], variances["sigma_b2"], q_input
        )
        if prediction is not None:
            return {"applies": True, **prediction}
        why = "no hidden layer"
    return {"applies": False, "why": why}


def _write_failure(job: Job, trace: str, out_dir: Path) -> None:
    record = {
        "status": "failed",
        "verdict": "failed",
        "outcome": None,
        "flags": {name: False for name in verdict.FLAGS},
        "figures": {},
        "diverged_at": None,
        "error": trace.strip().splitlines()[-1],
        "traceback": trace,
        "timings": {},
    }
    files.write_json({**_base_record(job), **record}, out_dir / files.RUN_FILE)
