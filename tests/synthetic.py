"""A seeded synthetic sweep folder in the runner's file format, for the report tests.

`write_sweep` writes what a finished `python -m sweeper -m ...` leaves per job, from
made-up measurements instead of training: job dirs 0/, 1/, ... (Hydra's numbering,
first grid key slowest), each with `.hydra/overrides.yaml`, a `metrics.csv` written by
`sweeper.record.files` from `metrics_table` and a `run.json` laid out as
`sweeper.sweep.jobs` writes it (`_write_result`, `_write_failure`). No TensorFlow, no
Hydra, no training.

The numbers are plausible but synthetic. The back-propagated signal |dL/dz| starts at
the output from the loss and changes by a per-layer gain on its way to the first layer,
so first-layer gradients spread over decades with depth; norms are positive, dead
fractions count whole units, and run.json's figures are computed from the same float32
arrays by `sweeper.record.verdict.figures`, as the runner does. The verdict and its one
flag are the ones asked for, not judged: each verdict's draws lean its way (a vanishing
run's signal shrinks 100-1000x a layer, a collapsed run's output stops moving), and
sweeper's judge mostly agrees, but not always (it would call a vanishing run of depth
2 collapsed, and a collapsed one of depth 4 vanishing). Tests assert on what
`write_sweep` returns and wrote, never on training behaviour.
"""

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from sweeper.config.schema import SWEEP_KEYS, Config, VerdictConfig
from sweeper.contract import LAYER_METRICS, RUN_METRICS, ProgramKey
from sweeper.record import files
from sweeper.record.verdict import FLAGS, VERDICTS, figures, outcome
from sweeper.report.analysis import FIGURES, RESULTS

WIDTH = 16  # hidden units, as the default MLP; the identity task has 1 input, 1 output
LR = 1e-3  # the default SGD learning rate: update_ratio = LR * |clipped grad| / |W|
CLIP = 4.5  # the default clip=value threshold, on single gradient entries
ERROR = "RuntimeError: synthetic failure of job {job}"  # a failed job's error line


class Recipe(NamedTuple):
    """How one verdict's runs are drawn: (low, high) ranges of uniform draws."""

    gain: tuple  # log10 of the signal's gain per layer, output layer back to the first
    weights: tuple  # log10 of the weight scale against Glorot's sqrt(2 / fan sum)
    loss: tuple  # log10 of the final probe loss against the best constant's
    spread: tuple  # log10 of the final output spread (std estimate / std target)
    dead: tuple  # units of WIDTH never active at the end, in one hidden layer


RECIPES = {
    "healthy": Recipe((-0.15, 0.15), (0, 0), (-1.5, -0.5), (-0.4, 0), (0, 4)),
    "vanishing": Recipe((-3, -2), (-2.6, -2.4), (0, 0.005), (-8, -6), (0, 8)),
    "collapsed": Recipe((-2.5, -1.5), (-2.6, -2.4), (0, 0.005), (-6, -4), (0, 4)),
    "dead": Recipe((-0.7, -0.3), (0, 0), (-0.3, 0), (-1, -0.5), (13, 15)),
    "exploding": Recipe((1.2, 1.6), (0.3, 0.6), (0, 0.5), (0.2, 0.7), (0, 4)),
}
RECIPES["diverged"] = RECIPES["exploding"]  # ... until its loss turns non-finite
RECIPES["unstable"] = RECIPES["exploding"]


def write_sweep(
    folder: Path,
    grid: Mapping[str, Sequence],
    *,
    seeds: Sequence[int] | None = None,
    steps: int = 1000,
    log_every: int = 50,
    verdicts: str | Mapping | Sequence[str] | None = None,
    incomplete: Sequence[int] = (),
    seed: int = 0,
) -> pd.DataFrame:
    """Write a synthetic sweep into `folder`; return one row per job dir written.

    Parameters
    ----------
    folder
        Where the job dirs go (created if missing).
    grid
        Swept key -> values as typed on the CLI, e.g. {"init": ["normal", "xavier"],
        "depth": [2, 3]}; a value's `str()` is its CLI text ("1e-3" stays "1e-3" when
        given as a string). `depth` sets the number of layers (default 3).
    seeds
        When given, `seed` is swept too, after the grid keys (as `seed=0,1`).
    steps, log_every
        As on the CLI; both are recorded as command-line settings after the swept
        keys, as the origin sweep's `steps=... log_every=...` are.
    verdicts
        One verdict for every run (a string), one per job in job order (a sequence),
        or per setting (a mapping from a tuple of grid values in grid order, or a bare
        value for a one-key grid, to a verdict; settings not in it are healthy).
        Default: all healthy. "failed" writes a failure record with the error ERROR.
    incomplete
        Job numbers left as if killed before their run.json: `.hydra/` and (unless
        failed) metrics.csv, no run.json.
    seed
        Seeds numpy's default_rng: the same arguments write the same numbers.

    Returns
    -------
    pd.DataFrame
        One row per job: the swept keys with the values given (a key named like a
        result column, e.g. `verdict`, as "verdict (setting)"), `depth` (layers),
        `job` (its dir name), `complete`, then what its run.json says (for an
        incomplete job, would have said): `status`, `verdict`, `error`,
        `diverged_at` and the figures (NaN where null or absent, as for a failed run).
    """
    folder, n_grid = Path(folder), len(grid)
    grid = {**grid, "seed": list(seeds)} if seeds is not None else dict(grid)
    combos = list(itertools.product(*grid.values()))
    asked = _verdicts(verdicts, combos, n_grid)
    logged = ProgramKey((), (), steps, log_every, tensorboard=False).logged_steps
    rng = np.random.default_rng(seed)
    baselines = {}  # the best constant's probe loss depends on the task's data seed
    rows = []
    for job, (combo, verdict) in enumerate(zip(combos, asked)):
        settings = {k: str(v) for k, v in zip(grid, combo)}
        settings |= {"steps": str(steps), "log_every": str(log_every)}
        depth = int(settings.get("depth", Config().depth))
        out_dir = folder / str(job)
        (out_dir / ".hydra").mkdir(parents=True, exist_ok=True)
        overrides = "".join(f"- {k}={v}\n" for k, v in settings.items())
        (out_dir / ".hydra" / "overrides.yaml").write_text(overrides)
        if verdict == "failed":
            record = _failure(ERROR.format(job=job))
        else:
            baseline = baselines.setdefault(
                settings.get("seed"), float(np.float32(rng.uniform(0.32, 0.35)))
            )
            job_rng = np.random.default_rng([seed, job])
            record = _train(
                out_dir, settings, verdict, depth, logged, baseline, job_rng
            )
        if job not in incomplete:
            config = _config(settings)
            head = {"complete": True, "settings": settings}
            head |= {"config_hash": _config_hash(config), "config": config}
            files.write_json({**head, **record}, out_dir / files.RUN_FILE)
        given = dict(zip(grid, combo)) | {"depth": depth}
        row = {_setting_column(k): v for k, v in given.items()}
        row |= {"job": str(job), "complete": job not in incomplete}
        row |= {k: record[k] for k in ("status", "verdict", "error", "diverged_at")}
        rows.append(row | {k: _nan(record["figures"].get(k)) for k in FIGURES})
    return pd.DataFrame(rows)


def _train(out_dir, settings, verdict, depth, logged, baseline, rng) -> dict:
    """Write a made-up run's metrics.csv; return its record as jobs._write_result's."""
    recipe, diverges = RECIPES[verdict], verdict == "diverged"
    layer, run, diverged_at = _measurements(
        recipe, depth, logged, baseline, rng, diverges
    )
    table = files.metrics_table(logged, layer, run, settings)
    files.write_csv(table, out_dir / files.METRICS_FILE)
    figs = figures(layer, run, logged, baseline)
    return {
        "status": "diverged" if diverges else "ok",
        "verdict": verdict,
        "outcome": outcome(figs, diverged_at or -1, VerdictConfig()),
        "flags": {name: name == verdict for name in FLAGS},
        "figures": figs,
        "diverged_at": diverged_at,
        "error": None,
        "timings": {
            "started_at": f"2026-12-01T10:{int(rng.integers(60)):02d}:00+00:00",
            "group_seconds": rng.uniform(2, 8),
            "group_size": 1,
            "write_seconds": rng.uniform(1e-3, 3e-3),
        },
    }


def _setting_column(key: str) -> str:
    """A settings key's column; as in load_runs, a result's name gets " (setting)"."""
    return f"{key} (setting)" if key in RESULTS else key


def _verdicts(verdicts, combos: list, n_grid: int) -> list[str]:
    """The verdict asked for each job."""
    if verdicts is None or isinstance(verdicts, str):
        asked = [verdicts or "healthy"] * len(combos)
    elif isinstance(verdicts, Mapping):
        asked = []
        for combo in combos:
            setting = combo[:n_grid]
            bare = setting[0] if n_grid == 1 else setting
            asked.append(verdicts.get(setting, verdicts.get(bare, "healthy")))
    else:
        asked = list(verdicts)
        if len(asked) != len(combos):
            raise ValueError(f"{len(asked)} verdicts for {len(combos)} jobs")
    for name in asked:
        if name not in VERDICTS:
            raise ValueError(
                f"The value for `verdicts` must be one of {list(VERDICTS)}, "
                f"but {name!r} was passed."
            )
    return asked


def _nan(value) -> float:
    return float("nan") if value is None or not np.isfinite(value) else float(value)


def _failure(error: str) -> dict:
    """A failed run's record, as jobs._write_failure's; it leaves no metrics.csv."""
    trace = (
        "Traceback (most recent call last):\n"
        '  File "sweeper/sweep/jobs.py", line 65, in train_group\n'
        "    result = engine.train(cfgs)\n"
        f"{error}\n"
    )
    return {
        "status": "failed",
        "verdict": "failed",
        "outcome": None,
        "flags": {name: False for name in FLAGS},
        "figures": {},
        "diverged_at": None,
        "error": error,
        "traceback": trace,
        "timings": {},
    }


def _measurements(recipe: Recipe, depth, logged, baseline, rng, diverges: bool):
    """One run's [K, layers] and [K] float32 arrays, and its diverged_at (or None)."""
    k, n_layers = len(logged), depth
    t = (logged / logged[-1])[:, None]  # training time, 0 .. 1, as a column
    approach = np.exp(-5 * t)  # 1 at the start, ~0 at the end

    def draw(low_high):
        return 10 ** rng.uniform(*low_high)

    def noise(sigma, shape=(k, n_layers)):
        return np.exp(rng.normal(0, sigma, shape))

    fan_in = np.array([1] + [WIDTH] * (n_layers - 1))
    fan_out = np.array([WIDTH] * (n_layers - 1) + [1])
    entries = fan_in * fan_out
    # The run: a probe loss that falls (if it does) from above the baseline to its
    # final value, a noisy batch-of-one loss around it, an output spread that grows.
    final = baseline * draw(recipe.loss)
    start = baseline * draw((0, 0.5)) if recipe.loss[1] < 0 else final
    probe_loss = (final + (start - final) * approach)[:, 0]
    loss = probe_loss * noise(0.3, k)
    out_spread = draw(recipe.spread) * (1 - 0.5 * approach[:, 0]) * noise(0.05, k)
    # The layers: dL/dz at the output is twice the error; every layer further back
    # multiplies it by the gain. A kernel gradient is x^T dL/dz for a batch of one.
    to_output = n_layers - 1 - np.arange(n_layers)
    signal = 2 * np.sqrt(loss)[:, None] * draw(recipe.gain) ** to_output * noise(0.1)
    weight_std = draw(recipe.weights) * np.sqrt(2 / (fan_in + fan_out))
    act_rms = weight_std * np.sqrt(fan_in) * rng.uniform(0.5, 1, n_layers) * noise(0.05)
    act_rms[:, -1] = 1.15 * out_spread  # the estimate; the target's std is ~1.15
    inputs = np.concatenate([rng.uniform(0.1, 1, (k, 1)), act_rms[:, :-1]], axis=1)
    grad_norm = signal * np.sqrt(fan_in) * inputs
    grad_var = grad_norm**2 / entries * rng.uniform(0.5, 0.95, (k, n_layers))
    grad_max = np.minimum(grad_norm, np.sqrt(grad_var) * rng.uniform(1.5, 3, (k, 1)))
    clipped = np.minimum(1.0, CLIP / grad_max)  # roughly what clipping entries does
    weight_norm = weight_std * np.sqrt(entries) * (1 + 0.2 * t) * noise(0.02)
    dead = np.full((k, n_layers), np.nan)  # the output layer is linear: no dead units
    if n_layers > 1:
        units = np.repeat(rng.integers(0, 5, (1, n_layers - 1)), k, axis=0)
        worst, end = (
            rng.integers(n_layers - 1),
            rng.integers(*recipe.dead, endpoint=True),
        )
        units[:, worst] = np.round(np.linspace(min(units[0, worst], end), end, k))
        dead[:, :-1] = units / WIDTH
    zero = np.round(rng.uniform(0.1, 0.6, (k, n_layers)) * entries) / entries
    layer = {
        "grad_norm": grad_norm,
        "grad_var": grad_var,
        "grad_max": grad_max,
        "grad_zero_frac": np.fmax(zero, dead),  # a dead unit's gradient row is zero
        "grad_norm_clipped": grad_norm * clipped,
        "bias_grad_norm": signal,
        "weight_norm": weight_norm,
        "update_ratio": LR * grad_norm * clipped / weight_norm,
        "act_rms": act_rms,
        "dead_frac": dead,
        # a batch of one: the per-example figures are the batch ones
        "delta_rms": signal,
        "grad_norm_per_example": grad_norm,
        # how far each kernel has moved: ~1 in a healthy run (the first layer as the
        # top one), the first layer 10^gain-scaled down from the top otherwise
        "drift": (1 - approach) * np.minimum(1.0, draw(recipe.gain)) ** to_output,
    }
    squares = grad_norm**2 + signal**2
    run = {
        "loss": loss,
        "probe_loss": probe_loss,
        "out_spread": out_spread,
        "global_grad_norm": np.sqrt(squares.sum(axis=1)),
        "global_grad_norm_clipped": np.sqrt((squares * clipped**2).sum(axis=1)),
        "accuracy": np.full(k, np.nan),  # a regression task
        "probe_accuracy": np.full(k, np.nan),
    }
    diverged_at = int(rng.integers(1, logged[-1] // 2 + 1)) if diverges else None
    if diverges:
        _diverge(layer, run, logged > diverged_at)
    layer = {name: layer[name].astype(np.float32) for name in LAYER_METRICS}
    run = {name: run[name].astype(np.float32) for name in RUN_METRICS}
    return layer, run, diverged_at


def _diverge(layer: dict, run: dict, after: np.ndarray) -> None:
    """Non-finite measurements at the logged steps `after` the divergence, in place."""
    for name in ("grad_norm", "grad_var", "grad_max", "grad_norm_clipped"):
        layer[name][after] = np.nan
    layer["grad_norm"][after, -1] = np.inf
    for name in ("bias_grad_norm", "weight_norm", "act_rms"):
        layer[name][after] = np.inf
    layer["update_ratio"][after] = 0.0  # a diverged run stops updating
    for name in ("loss", "probe_loss", "out_spread"):
        run[name][after] = np.inf
    for name in ("global_grad_norm", "global_grad_norm_clipped"):
        run[name][after] = np.nan


def _config(settings: dict) -> dict:
    """Config's defaults with the settings applied: a group key sets its option name."""
    config = dataclasses.asdict(Config())
    for key, text in settings.items():
        *path, last = key.split(".")
        node = config
        for part in path:
            node = node.setdefault(part, {})
        if isinstance(node.get(last), dict):
            if "name" in node[last]:
                node[last]["name"] = text
        else:
            node[last] = _typed(text)
    return config


def _typed(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _config_hash(config: dict) -> str:
    """As sweeper.sweep.jobs.config_hash, from the config as a dict."""
    record = {k: v for k, v in config.items() if k not in SWEEP_KEYS}
    text = json.dumps(record, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
