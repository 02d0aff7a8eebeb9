"""The verdict rules on hand-made figures and measurements: every verdict, every flag.

No training here: `judge` gets figures written by hand, `figures` gets arrays whose
gains, medians and maxima are worked out by hand; tests/test_verdict.py trains runs.
"""

import json

import numpy as np
import pytest

from sweeper.config.schema import Config, VerdictConfig
from sweeper.record import verdict
from sweeper.sweep.jobs import Job, Outcome, write

T = VerdictConfig()  # vanish_decades 1, explode_decades 1, learn_ratio 0.1,
# unstable_loss 10, dead_frac 0.75, collapse_spread 0.1, collapse_loss 0.5

HEALTHY = {
    "final_loss": 0.01,
    "baseline_loss": 1 / 3,
    "out_spread": 0.95,
    "signal_decades": -0.2,  # per example, readout back to the first layer, at init
    "signal_slope": -0.01,
    "signal_decades_early": -0.3,
    "signal_decades_late": -0.1,
    "signal_decades_max": 0.1,
    "first_drift_ratio": 0.8,
    "first_grad_std_init": 1e-2,
    "loss_growth": 1.0,
    "max_dead_frac": 0.1,
}
# The textbook cases' figures at 20 hidden layers (README, "Verdicts")
VANISHING = {"signal_decades": -3.0, "signal_decades_early": -3.0}
VANISHING |= {"signal_decades_late": -2.5}  # ReLU + LeCun: 0.15 decades a layer
EXPLODING = {"signal_decades": 1.7, "signal_decades_max": 1.7}  # ReLU, sigma_w2 = 3
COLLAPSED = {"out_spread": 0.05, "final_loss": 0.3}  # 0.3 > 0.5 / 3


def judged(diverged_at: int = -1, **changes) -> tuple[str, dict]:
    return verdict.judge({**HEALTHY, **changes}, diverged_at, T)


def test_healthy_when_no_condition_holds():
    name, flags = judged()
    assert name == "healthy" and not any(flags.values())
    assert list(flags) == list(verdict.FLAGS)


@pytest.mark.parametrize(
    "changes, expected",
    [
        (EXPLODING, "exploding"),  # grows 50x from the readout back, at init
        ({"signal_decades_max": 1.5}, "unstable"),  # grows only later in training
        ({"loss_growth": 12.0}, "unstable"),  # the loss climbs 12x above its start
        (VANISHING, "vanishing"),
        ({"max_dead_frac": 0.8}, "dead"),
        (COLLAPSED, "collapsed"),
    ],
)
def test_each_condition_alone_gives_its_verdict(changes, expected):
    name, flags = judged(**changes)
    assert name == expected
    assert [f for f, on in flags.items() if on] == [expected]


@pytest.mark.parametrize(
    "changes",
    [
        {"signal_decades": -3.0},  # small at init, but not over the early window
        {"signal_decades_early": -3.0, "signal_decades_late": -3.0},  # not at init
        # vanishing at first, recovered by the end, the first layer learning
        {**VANISHING, "signal_decades_late": -0.5},
        {"signal_decades": -0.99, "signal_decades_early": -0.99},  # at the threshold
        {"signal_decades": 1.0, "signal_decades_max": 1.0},  # at it, not above
        {"loss_growth": 10.0},
        {"first_drift_ratio": 1e-3},  # a still first layer through a signal that holds
        {"out_spread": 0.05},  # a flat output that still fits (a flat target)
        {"final_loss": 0.3},  # a poor fit that follows the input
        {"max_dead_frac": 0.75},  # at the threshold, not above it
        {"max_dead_frac": None},  # not a ReLU-like net: no dead units to count
    ],
)
def test_half_a_condition_is_not_enough(changes):
    assert judged(**changes)[0] == "healthy"


def test_a_recovered_signal_still_vanishes_while_the_first_layer_stays_put():
    recovered = {**VANISHING, "signal_decades_late": -0.5}
    assert judged(**recovered)[0] == "healthy"
    assert verdict.started_vanishing({**HEALTHY, **recovered}, T)
    assert judged(**recovered, first_drift_ratio=0.05)[0] == "vanishing"
    assert judged(**recovered, first_drift_ratio=0.1)[0] == "healthy"  # at it


def test_growth_at_initialization_is_exploding_not_unstable():
    # growth at init that training brings down is still exploding, never unstable
    name, flags = judged(**EXPLODING, signal_decades_late=0.3, loss_growth=50.0)
    assert name == "exploding" and not flags["unstable"]


def test_diverged_wins_over_every_other_condition():
    everything = {**EXPLODING, "max_dead_frac": 1.0, **COLLAPSED}
    name, flags = judged(diverged_at=37, **everything)
    assert name == "diverged"
    assert flags == {
        "diverged": True,
        "exploding": True,
        "unstable": False,
        "vanishing": False,
        "dead": True,
        "collapsed": True,
    }


def test_priority_exploding_unstable_vanishing_dead_collapsed():
    dead = {"max_dead_frac": 0.9}
    assert judged(**EXPLODING, **dead, **COLLAPSED)[0] == "exploding"
    assert judged(loss_growth=20.0, **VANISHING)[0] == "unstable"
    assert judged(**VANISHING, **dead, **COLLAPSED)[0] == "vanishing"
    assert judged(**dead, **COLLAPSED)[0] == "dead"
    name, flags = judged(**COLLAPSED)  # collapsed wins when it is all there is
    assert name == "collapsed" and flags["collapsed"]


def test_a_wholly_dead_layer_is_named_dead_not_vanishing():
    dead_layer = {**VANISHING, "signal_decades_late": -np.inf, "max_dead_frac": 1.0}
    name, flags = judged(**dead_layer)
    assert flags["vanishing"] and flags["dead"] and name == "dead"
    # A signal that is small but not zero vanishes through live units: still vanishing
    assert judged(**{**dead_layer, "signal_decades_late": -6.0})[0] == "vanishing"


def test_a_zero_signal_read_back_from_run_json_counts_as_vanished():
    # run.json has no -inf: a signal that is exactly zero is written as null
    zero = {"signal_decades": None, "signal_decades_early": None}
    assert judged(**zero, signal_decades_late=None)[0] == "vanishing"


@pytest.mark.parametrize(
    "changes, outcome",
    [
        ({}, "learned"),
        ({"final_loss": 1 / 6}, "learned"),  # exactly half the constant's loss
        ({"final_loss": 0.3}, "stalled"),  # follows the input, but barely learned
        (COLLAPSED, "collapsed"),
    ],
)
def test_the_outcome_against_the_constant_predictor(changes, outcome):
    assert verdict.outcome({**HEALTHY, **changes}, -1, T) == outcome
    assert verdict.outcome({**HEALTHY, **changes}, 12, T) == "diverged"


def test_the_outcome_is_stated_beside_the_physics():
    # ReLU + LeCun at 20 hidden layers: vanishing, and it still learned
    figs = {**HEALTHY, **VANISHING}
    assert verdict.judge(figs, -1, T)[0] == "vanishing"
    assert verdict.outcome(figs, -1, T) == "learned"


def layers(k: int, delta: np.ndarray, **more) -> dict:
    """[K, layers] arrays of a 3-layer run: the signal given, the rest plain."""
    plain = np.ones((k, delta.shape[1]))
    arrays = {"delta_rms": delta, "grad_var": plain, "dead_frac": plain * 0.25}
    arrays["drift"] = np.tile(np.linspace(0, 1, k)[:, None], (1, delta.shape[1]))
    return arrays | more


def test_figures_by_hand():
    steps = np.arange(0, 1001, 100)  # 11 logged steps; early: 0, 100; late: 900, 1000
    k = len(steps)
    # per example at step 0: first layer 1e-3, hidden 1e-1, readout 1: 3 decades from
    # the readout to the first layer, 2 a layer over the hidden layers
    delta = np.tile([1e-3, 1e-1, 1.0], (k, 1))
    delta[1] = [1e-5, 1e-1, 1.0]  # early: -3 and -5, median -4
    delta[5] = [1e3, 1e-1, 1.0]  # +3 mid-training: the maximum
    delta[9:] = [[1e-1, 1.0, 1.0], [1e-2, 1.0, 1.0]]  # late: -1 and -2, median -1.5
    grad_var = np.full((k, 3), 4e-6)
    grad_var[0, 0] = 1e-4  # at init: std 1e-2
    drift = np.zeros((k, 3))
    drift[-1] = [0.02, 0.2, 0.5]  # the first layer moved a tenth as far as the top
    layer = layers(k, delta, grad_var=grad_var, drift=drift)
    layer["dead_frac"][-1] = [0.25, 0.5, np.nan]
    probe = np.linspace(1.0, 0.2, k)
    probe[3] = 4.0  # a loss spike: 4x the initial loss
    accuracy = np.linspace(0.1, 0.9, k)  # a classifier's probe accuracy
    run = {"probe_loss": probe, "out_spread": np.full(k, 0.4)}
    run["probe_accuracy"] = accuracy
    figs = verdict.figures(layer, run, steps, baseline_loss=1 / 3)
    assert figs["signal_decades"] == pytest.approx(-3.0)
    assert figs["signal_slope"] == pytest.approx(-2.0)
    assert figs["signal_decades_early"] == pytest.approx(-4.0)
    assert figs["signal_decades_late"] == pytest.approx(-1.5)
    assert figs["signal_decades_max"] == pytest.approx(3.0)
    assert figs["first_drift_ratio"] == pytest.approx(0.1)
    assert figs["first_grad_std_init"] == pytest.approx(1e-2)
    assert figs["loss_growth"] == pytest.approx(4.0)
    assert figs["max_dead_frac"] == 0.5  # the output layer's NaN is left out
    assert (figs["final_loss"], figs["baseline_loss"]) == (pytest.approx(0.2), 1 / 3)
    assert figs["out_spread"] == pytest.approx(0.4)
    assert figs["final_accuracy"] == pytest.approx(0.9)  # the last row's


def test_figures_of_a_one_layer_net_and_of_non_finite_values():
    steps = np.array([0, 10])
    layer = layers(2, np.array([[1.0], [2.0]]), dead_frac=np.full((2, 1), np.nan))
    run = {"probe_loss": np.array([1.0, 0.5]), "out_spread": np.array([1.0, 1.0])}
    run["probe_accuracy"] = np.full(2, np.nan)  # regression: no accuracy
    figs = verdict.figures(layer, run, steps, baseline_loss=0.25)
    assert np.isnan(figs["final_accuracy"])
    assert figs["signal_decades"] == 0.0  # no layer to pass the signal through
    assert np.isnan(figs["signal_slope"]) and np.isnan(figs["first_drift_ratio"])
    assert figs["max_dead_frac"] is None


def test_a_run_that_raised_is_written_as_failed(tmp_path):
    job = Job(Config(), tmp_path / "0", {"depth": "3"})
    trace = "Traceback (most recent call last):\n  ...\nValueError: no good\n"
    write(job, Outcome(None, error=trace))
    record = json.loads((tmp_path / "0" / "run.json").read_text())
    assert (record["status"], record["verdict"]) == ("failed", "failed")
    assert record["error"] == "ValueError: no good"
    assert record["flags"] == dict.fromkeys(verdict.FLAGS, False)
    assert not (tmp_path / "0" / "metrics.csv").exists()


def test_the_objective_a_sweeper_minimizes():
    record = {"figures": {"final_loss": 0.25, "signal_decades": -3.5}}
    assert verdict.objective(record, "final_loss") == 0.25
    assert verdict.objective(record, "signal_decades") == 3.5  # off by 3.5 decades
    assert np.isnan(verdict.objective({"figures": {}}, "final_loss"))  # a failed run
    assert np.isnan(verdict.objective(None, "final_loss"))  # no complete run.json


def test_signal_decades_by_hand():
    steps = np.array([0, 10, 20])
    signal = np.tile([1e-6, 1e-3, 1.0], (3, 1))  # 3 decades a layer over 2 layers
    run = {"probe_loss": np.ones(3), "out_spread": np.ones(3)}
    run["probe_accuracy"] = np.full(3, np.nan)
    figs = verdict.figures(layers(3, signal), run, steps, baseline_loss=1.0)
    assert figs["signal_decades"] == pytest.approx(-6.0)
    assert figs["signal_slope"] == pytest.approx(-3.0)
    zero = np.tile([0.0, 1e-3, 1.0], (3, 1))  # nothing reaches the first layer
    figs = verdict.figures(layers(3, zero), run, steps, baseline_loss=1.0)
    assert figs["signal_decades"] == -np.inf and np.isnan(figs["signal_slope"])
    assert verdict.judge(figs, -1, T)[1]["vanishing"]
