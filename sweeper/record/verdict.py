"""Turn one run's measurements into figures, flags and a verdict.

Vanishing and exploding are judged on the back-propagated signal dL/dz (the bias
gradient), not on the ratio of first- to last-layer weight gradients: in a ReLU net
without bias the forward growth of activations cancels the backward decay, so that ratio
stays near 1 while the signal vanishes (Glorot & Bengio 2010, sec. 4.2.1). The signal's
per-layer gain says whether it decays through the layers; the first layer's update-to-
weight ratio says whether that decay actually stops the first layer from learning.
"""

import numpy as np

from sweeper.config.schema import VerdictConfig

VERDICTS = (
    "failed",
    "diverged",
    "exploding",
    "vanishing",
    "dead",
    "collapsed",
    "healthy",
)
FLAGS = VERDICTS[1:-1]  # the conditions, in verdict priority
EARLY = 0.1  # fraction of training that counts as "the start" for start-of-run figures


def figures(layer: dict, run: dict, steps: np.ndarray, baseline_loss: float) -> dict:
    """Key figures of one run from its [K, layers] and [K] measurement arrays.

    `baseline_loss` is the task's probe loss of the best constant prediction.
    """
    early = steps <= max(EARLY * steps[-1], steps[min(1, len(steps) - 1)])
    signal = layer["bias_grad_norm"]
    depth = signal.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        # Geometric-mean gain per layer of dL/dz, from the output layer to the first.
        gains = (signal[:, 0] / signal[:, -1]) ** (1.0 / max(depth - 1, 1))
    dead = layer["dead_frac"][-1, :-1]
    return {
        "final_loss": float(run["probe_loss"][-1]),
        "baseline_loss": baseline_loss,
        "out_spread": float(run["out_spread"][-1]),
        "signal_gain": _median(gains) if depth > 1 else 1.0,
        "signal_decades": _decades(_median(gains), depth) if depth > 1 else 0.0,
        "first_update_ratio": _median(layer["update_ratio"][:, 0]),
        "first_grad_std_start": _median(np.sqrt(layer["grad_var"][early, 0])),
        "first_grad_norm_max": _max(layer["grad_norm"][:, 0]),
        "max_dead_frac": float(np.nanmax(dead)) if np.isfinite(dead).any() else None,
        **_at_initialization(layer["delta_rms"][0]),
    }


def _at_initialization(delta: np.ndarray) -> dict:
    """The per-example signal at step 0: decades from the readout to the first layer,
    and the slope fitted over the hidden layers (decades per layer going back from the
    top hidden layer; negative: it shrinks), as mean-field theory predicts them."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(delta)
    decades = float(logs[0] - logs[-1]) if len(delta) > 1 else 0.0
    hidden = logs[:-1]
    slope = float("nan")
    if len(hidden) >= 2 and np.isfinite(hidden).all():
        back = np.arange(len(hidden))[::-1]  # layers back from the top hidden layer
        slope = float(np.polyfit(back, hidden, 1)[0])
    return {
        "signal_decades_init": decades if np.isfinite(decades) else None,
        "signal_slope_init": slope,
    }


def _decades(gain: float, depth: int) -> float:
    """How many decades the signal changes from the output layer to the first, at
    the median per-layer gain (negative: it shrinks; -inf: it is exactly zero)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((depth - 1) * np.log10(gain))


def objective(record: dict | None, name: str) -> float:
    """A run's `objective=` (config.options.OBJECTIVES) from its run.json record; NaN
    for a failed or missing run."""
    value = ((record or {}).get("figures") or {}).get(name)
    if value is None:
        return float("nan")
    return abs(value) if name == "signal_decades" else float(value)


def _median(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


def _max(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.max(finite)) if finite.size else float("nan")


def judge(figs: dict, diverged_at: int, thresholds: VerdictConfig) -> tuple[str, dict]:
    """The verdict and one boolean flag per condition."""
    t = thresholds
    flags = {
        "diverged": diverged_at >= 0,
        "exploding": figs["signal_gain"] > t.explode_gain
        or figs["first_grad_norm_max"] > t.explode_grad,
        "vanishing": figs["signal_gain"] < t.vanish_gain
        and figs["first_update_ratio"] < t.vanish_update,
        "dead": (figs["max_dead_frac"] or 0.0) > t.dead_frac,
        "collapsed": figs["out_spread"] < t.collapse_spread
        and figs["final_loss"] > t.collapse_loss * figs["baseline_loss"],
    }
    flags = {name: bool(value) for name, value in flags.items()}
    verdict = next((name for name in FLAGS if flags[name]), "healthy")
    # A hidden layer whose units are all dead passes back no gradient at all: below it
    # the signal is exactly zero, and `vanishing` would name the consequence rather
    # than the cause (Normal(0, 1e-3) weights under Adam lose a whole layer of a
    # 4-layer net within ~100 steps).
    wholly_dead = figs["max_dead_frac"] == 1.0 and figs["signal_gain"] == 0.0
    if verdict == "vanishing" and wholly_dead:
        verdict = "dead"
    return verdict, flags
