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

T = VerdictConfig()  # vanish_gain 0.1, explode_gain 10, vanish_update 1e-5,
# explode_grad 1e3, dead_frac 0.75, collapse_spread 0.1, collapse_loss 0.5

HEALTHY = {
    "final_loss": 0.01,
    "baseline_loss": 1 / 3,
    "out_spread": 0.95,
    "signal_gain": 0.8,
    "first_update_ratio": 1e-3,
    "first_grad_std_start": 1e-2,
    "first_grad_norm_max": 3.0,
    "max_dead_frac": 0.1,
}


def judged(diverged_at: int = -1, **changes) -> tuple[str, dict]:
    return verdict.judge({**HEALTHY, **changes}, diverged_at, T)


def test_healthy_when_no_condition_holds():
    name, flags = judged()
    assert name == "healthy" and not any(flags.values())
    assert list(flags) == list(verdict.FLAGS)


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"signal_gain": 10.5}, "exploding"),  # the signal grows > 10x a layer
        ({"first_grad_norm_max": 1.5e3}, "exploding"),  # or the first layer's grad
        ({"signal_gain": 0.05, "first_update_ratio": 1e-6}, "vanishing"),
        ({"max_dead_frac": 0.8}, "dead"),
        ({"out_spread": 0.05, "final_loss": 0.3}, "collapsed"),  # 0.3 > 0.5 / 3
    ],
)
def test_each_condition_alone_gives_its_verdict(changes, expected):
    name, flags = judged(**changes)
    assert name == expected
    assert [f for f, on in flags.items() if on] == [expected]


@pytest.mark.parametrize(
    "changes",
    [
        {"signal_gain": 0.05},  # the signal shrinks, but the first layer still moves
        {"first_update_ratio": 1e-6},  # a tiny update through a signal that holds
        {"out_spread": 0.05},  # a flat output that still fits (a flat target)
        {"final_loss": 0.3},  # a poor fit that follows the input
        {"max_dead_frac": 0.75},  # at the threshold, not above it
        {"max_dead_frac": None},  # not a ReLU-like net: no dead units to count
    ],
)
def test_half_a_condition_is_not_enough(changes):
    assert judged(**changes)[0] == "healthy"


def test_diverged_wins_over_every_other_condition():
    everything = {
        "signal_gain": 20.0,
        "first_grad_norm_max": 1e4,
        "max_dead_frac": 1.0,
        "out_spread": 0.0,
        "final_loss": 1.0,
    }
    name, flags = judged(diverged_at=37, **everything)
    assert name == "diverged"
    assert flags == {
        "diverged": True,
        "exploding": True,
        "vanishing": False,
        "dead": True,
        "collapsed": True,
    }


def test_priority_exploding_vanishing_dead_collapsed():
    vanishing = {"signal_gain": 0.05, "first_update_ratio": 1e-6}
    collapsed = {"out_spread": 0.05, "final_loss": 0.3}
    dead = {"max_dead_frac": 0.9}
    assert judged(first_grad_norm_max=2e3, **vanishing)[0] == "exploding"
    assert judged(**vanishing, **dead, **collapsed)[0] == "vanishing"
    assert judged(**dead, **collapsed)[0] == "dead"
    name, flags = judged(**collapsed)  # collapsed wins when it is all there is
    assert name == "collapsed" and flags["collapsed"]


def test_a_wholly_dead_layer_is_named_dead_not_vanishing():
    dead_layer = {"signal_gain": 0.0, "first_update_ratio": 0.0, "max_dead_frac": 1.0}
    name, flags = judged(**dead_layer)
    assert flags["vanishing"] and flags["dead"] and name == "dead"
    # A signal that is small but not zero vanishes through live units: still vanishing
    assert judged(**{**dead_layer, "signal_gain": 1e-3})[0] == "vanishing"


def test_figures_by_hand():
    steps = np.array([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
    k = len(steps)
    # bias_grad_norm of 3 layers: output 1, middle 1e-2, first 1e-4 -> gain 1e-2
    signal = np.tile([1e-4, 1e-2, 1.0], (k, 1))
    signal[6:] = [1e-2, 1e-1, 1.0]  # later gain 0.1: the median of 11 is still 1e-2
    grad_var = np.full((k, 3), 4e-6)
    grad_var[0, 0], grad_var[1, 0] = 1e-4, 9e-4  # early: steps <= max(100, 100)
    layer = {
        "bias_grad_norm": signal,
        "update_ratio": np.tile([[2e-6], [3e-6]], (k // 2 + 1, 3))[:k],
        "grad_var": grad_var,
        "grad_norm": np.tile([[5.0, 1.0, 1.0]], (k, 1)) * np.arange(1, k + 1)[:, None],
        "dead_frac": np.tile([0.25, 0.5, np.nan], (k, 1)),
        # per example at step 0: hidden layers 1e-3, 1e-1 (2 decades over 1 layer
        # back), readout 1: 3 decades from the readout to the first layer
        "delta_rms": np.tile([1e-3, 1e-1, 1.0], (k, 1)),
    }
    run = {"probe_loss": np.linspace(1.0, 0.2, k), "out_spread": np.full(k, 0.4)}
    figs = verdict.figures(layer, run, steps, baseline_loss=1 / 3)
    assert figs["signal_decades_init"] == pytest.approx(-3.0)
    assert figs["signal_slope_init"] == pytest.approx(-2.0)
    assert figs["signal_gain"] == pytest.approx(1e-2)
    assert figs["first_update_ratio"] == pytest.approx(2e-6)  # 6 of 11 are 2e-6
    assert figs["first_grad_std_start"] == pytest.approx((1e-2 + 3e-2) / 2)
    assert figs["first_grad_norm_max"] == pytest.approx(5.0 * k)
    assert figs["max_dead_frac"] == 0.5  # the output layer's NaN is left out
    assert (figs["final_loss"], figs["baseline_loss"]) == (pytest.approx(0.2), 1 / 3)
    assert figs["out_spread"] == pytest.approx(0.4)


def test_figures_of_a_one_layer_net_and_of_non_finite_values():
    steps = np.array([0, 10])
    layer = {
        "bias_grad_norm": np.array([[1.0], [2.0]]),
        "update_ratio": np.array([[np.nan], [np.inf]]),
        "grad_var": np.array([[1.0], [1.0]]),
        "grad_norm": np.array([[np.inf], [np.nan]]),
        "dead_frac": np.array([[np.nan], [np.nan]]),
        "delta_rms": np.array([[1.0], [2.0]]),
    }
    run = {"probe_loss": np.array([1.0, 0.5]), "out_spread": np.array([1.0, 1.0])}
    figs = verdict.figures(layer, run, steps, baseline_loss=0.25)
    assert figs["signal_gain"] == 1.0  # no layer to pass the signal through
    assert np.isnan(figs["first_update_ratio"]) and np.isnan(
        figs["first_grad_norm_max"]
    )
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
    layer = {
        "bias_grad_norm": signal,
        "update_ratio": np.ones((3, 3)),
        "grad_var": np.ones((3, 3)),
        "grad_norm": np.ones((3, 3)),
        "dead_frac": np.zeros((3, 3)),
        "delta_rms": signal,
    }
    run = {"probe_loss": np.ones(3), "out_spread": np.ones(3)}
    figs = verdict.figures(layer, run, steps, baseline_loss=1.0)
    assert figs["signal_decades"] == pytest.approx(-6.0)
    assert figs["signal_decades_init"] == pytest.approx(-6.0)
    assert figs["signal_slope_init"] == pytest.approx(-3.0)
    layer["bias_grad_norm"] = np.tile([0.0, 1e-3, 1.0], (3, 1))  # nothing reaches it
    figs = verdict.figures(layer, run, steps, baseline_loss=1.0)
    assert figs["signal_decades"] == -np.inf
