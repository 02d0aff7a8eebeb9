"""Turn one run's measurements into figures, flags, a verdict and an outcome.

The flags say what the gradients do; the outcome says whether the net learned. Both
are stated, and the verdict names the most serious flag (README, "Verdicts").

Vanishing and exploding are judged on the per-example back-propagated signal dL/dz
(`delta_rms`), in decades from the readout to the first layer: the total change is
what stops a first layer from learning, however it is spread over the layers (a
20-layer sigmoid net loses ~12 decades at ~0.6 a layer). Not on the ratio of first- to
last-layer weight gradients: in a ReLU net the forward decay of activations cancels
the backward decay of the signal, so that ratio stays near 1 while the signal vanishes
(Glorot & Bengio 2010, sec. 4.2.1). Signal that starts small may recover as training
moves the weights (the origin's one-hidden-layer net escapes its saddle), so vanishing
holds only while it lasts: to the end of training, or while the first layer has moved
far less than the top hidden layer.
"""

import numpy as np

from sweeper.config.schema import VerdictConfig

VERDICTS = (
    "failed",
    "diverged",
    "exploding",
    "unstable",
    "vanishing",
    "dead",
    "collapsed",
    "healthy",
)
FLAGS = VERDICTS[1:-1]  # the conditions, in verdict priority
OUTCOMES = ("learned", "stalled", "collapsed", "diverged")
# The fraction of training that counts as its start (and, from the end, as its end)
EARLY = 0.1


def figures(layer: dict, run: dict, steps: np.ndarray, baseline_loss: float) -> dict:
    """Key figures of one run from its [K, layers] and [K] measurement arrays.

    `baseline_loss` is the task's probe loss of the best constant prediction. The
    signal figures are per-example; `first_grad_std_init` is of the step's batch.
    """
    second = steps[min(1, len(steps) - 1)]
    early = steps <= max(EARLY * steps[-1], second)
    late = steps >= min((1 - EARLY) * steps[-1], steps[-1])
    decades = _decades(layer["delta_rms"])  # [K]
    probe = run["probe_loss"]
    dead = layer["dead_frac"][-1, :-1]
    return {
        "final_loss": float(probe[-1]),
        # classification's share of the probe predicted right; NaN for regression
        "final_accuracy": float(run["probe_accuracy"][-1]),
        "baseline_loss": baseline_loss,
        "out_spread": float(run["out_spread"][-1]),
        "signal_decades": float(decades[0]),
        "signal_slope": _slope(layer["delta_rms"][0]),
        "signal_decades_early": _median(decades[early]),
        "signal_decades_late": _median(decades[late]),
        "signal_decades_max": _max(decades),
        "first_drift_ratio": _drift_ratio(layer["drift"][-1]),
        "first_grad_std_init": float(np.sqrt(layer["grad_var"][0, 0])),
        "loss_growth": _max(probe / probe[0]) if probe[0] > 0 else float("nan"),
        "max_dead_frac": float(np.nanmax(dead)) if np.isfinite(dead).any() else None,
    }


def _decades(delta: np.ndarray) -> np.ndarray:
    """log10 of the first layer's signal over the readout's, per logged step: -inf
    where the first layer's is exactly zero (a dead layer or float32 underflow)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(delta[:, 0]) - np.log10(delta[:, -1])


def _slope(delta: np.ndarray) -> float:
    """Decades per layer of the signal, fitted over the hidden layers going back from
    the top one (negative: it shrinks), as mean-field theory predicts it; NaN for
    fewer than two hidden layers or a signal that is zero somewhere."""
    with np.errstate(divide="ignore", invalid="ignore"):
        hidden = np.log10(delta[:-1])
    if len(hidden) < 2 or not np.isfinite(hidden).all():
        return float("nan")
    back = np.arange(len(hidden))[::-1]  # layers back from the top hidden layer
    return float(np.polyfit(back, hidden, 1)[0])


def _drift_ratio(drift: np.ndarray) -> float:
    """How far the first layer's kernel moved from its initial one, over the top
    hidden layer's (1 with one hidden layer; NaN with none)."""
    if len(drift) < 2:
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(drift[0] / drift[-2])


def _median(values: np.ndarray) -> float:
    kept = values[~np.isnan(values)]  # -inf (a zero signal) counts: it is the smallest
    return float(np.median(kept)) if kept.size else float("nan")


def _max(values: np.ndarray) -> float:
    kept = values[~np.isnan(values)]
    return float(np.max(kept)) if kept.size else float("nan")


def objective(record: dict | None, name: str) -> float:
    """A run's `objective=` (config.options.OBJECTIVES) from its run.json record; NaN
    for a failed or missing run."""
    value = ((record or {}).get("figures") or {}).get(name)
    if value is None:
        return float("nan")
    return abs(value) if name == "signal_decades" else float(value)


def judge(figs: dict, diverged_at: int, thresholds: VerdictConfig) -> tuple[str, dict]:
    """The verdict and one boolean flag per condition.

    A signal figure of -inf (None once read back from run.json, which has no -inf)
    is a signal that is exactly zero at the first layer: vanished.
    """
    t = thresholds
    init, late, peak = (_signal(figs, name) for name in ("", "_late", "_max"))
    drift = figs["first_drift_ratio"]
    grows_at_init = init > t.explode_decades
    flags = {
        "diverged": diverged_at >= 0,
        "exploding": grows_at_init,
        # growth that only training brings: a signal that grows later, or a loss
        # that climbs far above where it started
        "unstable": not grows_at_init
        and (peak > t.explode_decades or figs["loss_growth"] > t.unstable_loss),
        "vanishing": started_vanishing(figs, t)
        and (late < -t.vanish_decades or drift < t.learn_ratio),
        "dead": (figs["max_dead_frac"] or 0.0) > t.dead_frac,
        "collapsed": collapsed(figs, t),
    }
    flags = {name: bool(value) for name, value in flags.items()}
    verdict = next((name for name in FLAGS if flags[name]), "healthy")
    # A hidden layer whose units are all dead passes back no gradient at all: below it
    # the signal is exactly zero, and `vanishing` would name the consequence rather
    # than the cause (Normal(0, 1e-3) weights under Adam lose a whole layer of a
    # 4-layer net within ~100 steps).
    wholly_dead = figs["max_dead_frac"] == 1.0 and late == -np.inf
    if verdict == "vanishing" and wholly_dead:
        verdict = "dead"
    return verdict, flags


def _signal(figs: dict, suffix: str) -> float:
    value = figs[f"signal_decades{suffix}"]
    return -np.inf if value is None else value


def collapsed(figs: dict, t: VerdictConfig) -> bool:
    """The output ignores the input and the loss stays near a constant predictor's."""
    return bool(
        figs["out_spread"] < t.collapse_spread
        and figs["final_loss"] > t.collapse_loss * figs["baseline_loss"]
    )


def outcome(figs: dict, diverged_at: int, t: VerdictConfig) -> str:
    """Whether the net learned, against the task's best constant prediction."""
    if diverged_at >= 0:
        return "diverged"
    if collapsed(figs, t):
        return "collapsed"
    learned = figs["final_loss"] <= t.collapse_loss * figs["baseline_loss"]
    return "learned" if learned else "stalled"


def started_vanishing(figs: dict, t: VerdictConfig) -> bool:
    """The signal was vanishing at initialization and over the early window (a run
    that is not `vanishing` in the end recovered from it)."""
    return bool(
        _signal(figs, "") < -t.vanish_decades
        and _signal(figs, "_early") < -t.vanish_decades
    )


def assess(
    layer: dict,
    run: dict,
    steps: np.ndarray,
    baseline_loss: float,
    diverged_at: int,
    thresholds: VerdictConfig,
) -> dict:
    """What run.json says of a trained run: status, verdict, outcome, flags, figures
    and the divergence step (None if it never diverged)."""
    figs = figures(layer, run, steps, baseline_loss)
    name, flags = judge(figs, diverged_at, thresholds)
    return {
        "status": "diverged" if flags["diverged"] else "ok",
        "verdict": name,
        "outcome": outcome(figs, diverged_at, thresholds),
        "flags": flags,
        "figures": figs,
        "diverged_at": diverged_at if diverged_at >= 0 else None,
    }
