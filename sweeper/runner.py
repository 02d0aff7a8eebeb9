"""Train jobs and write each job's files; an exception never escapes a job.

Hydra skips `on_multirun_end` (and so the report) when a job raises, so every failure is
recorded as status `failed` in the job's run.json instead.
"""

import dataclasses
import hashlib
import json
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from sweeper import engine, files, verdict
from sweeper.schema import Config


@dataclass
class Job:
    """One run to train: its typed config, its output folder and its swept settings."""

    cfg: Config
    out_dir: Path
    settings: dict  # swept key (as on the CLI) -> value, e.g. {"init": "xavier"}


def config_hash(cfg: Config) -> str:
    """Stable fingerprint of a run's full config."""
    text = json.dumps(dataclasses.asdict(cfg), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_group(jobs: list[Job]) -> None:
    """Train jobs of one shape as one program; if that fails, retry each alone."""
    try:
        result = engine.train([job.cfg for job in jobs])
    except Exception:
        if len(jobs) == 1:
            _write_failure(jobs[0], traceback.format_exc())
            return
        for job in jobs:
            run_group([job])
        return
    for index, job in enumerate(jobs):
        try:
            _write_result(job, result, index, len(jobs))
        except Exception:
            _write_failure(job, traceback.format_exc())


def run_job(job: Job) -> None:
    """Train one job alone (the per-job path)."""
    run_group([job])


def _base_record(job: Job) -> dict:
    return {
        "complete": True,
        "settings": job.settings,
        "config_hash": config_hash(job.cfg),
        "config": dataclasses.asdict(job.cfg),
    }


def _write_result(job: Job, result: engine.Measurements, index: int, size: int) -> None:
    start = time.perf_counter()
    layer = {name: values[:, index] for name, values in result.layer.items()}
    run = {name: values[:, index] for name, values in result.run.items()}
    out_dir = Path(job.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = files.metrics_table(result.steps, layer, run, job.settings)
    files.write_csv(table, out_dir / files.METRICS_FILE)
    figs = verdict.figures(layer, run, result.steps, job.cfg.task)
    diverged_at = int(result.diverged_at[index])
    name, flags = verdict.judge(figs, diverged_at, job.cfg.verdict)
    record = {
        "status": "diverged" if flags["diverged"] else "ok",
        "verdict": name,
        "flags": flags,
        "figures": figs,
        "diverged_at": diverged_at if diverged_at >= 0 else None,
        "error": None,
        "timings": {
            "group_seconds": result.seconds,
            "group_size": size,
            "write_seconds": time.perf_counter() - start,
        },
    }
    files.write_json({**_base_record(job), **record}, out_dir / files.RUN_FILE)


def _write_failure(job: Job, trace: str) -> None:
    out_dir = Path(job.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "status": "failed",
        "verdict": "failed",
        "flags": {name: False for name in verdict.FLAGS},
        "figures": {},
        "diverged_at": None,
        "error": trace.strip().splitlines()[-1],
        "traceback": trace,
        "timings": {},
    }
    files.write_json({**_base_record(job), **record}, out_dir / files.RUN_FILE)
