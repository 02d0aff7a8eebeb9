"""Verdicts of trained runs at depths 2 to 21, against what the textbooks predict.

Through each Dense layer it passes back, a ReLU net with weights N(0, sigma_w2 /
fan_in) and zero biases multiplies the mean squared per-example signal by sigma_w2 / 2
(He et al. 2015, eq. 13): from the readout to the first layer of a net of `depth`
Dense layers, (depth - 1) / 2 * log10(sigma_w2 / 2) decades. He init (sigma_w2 = 2)
keeps it at every depth; LeCun init (sigma_w2 = 1) loses 0.15 decades a layer, so a
net vanishes once it is deep enough; sigma_w2 = 3 gains 0.088 a layer and explodes
once deep enough. A sigmoid's slope is at most 1/4, so with Glorot's weights (sigma_w2
<= 2 here) each layer passes back at most 1/8 of the mean squared signal (Glorot &
Bengio 2010): at least 0.45 decades lost a layer. Expected verdicts come from these
figures and the default thresholds (1 decade), never from sweeper's code; depths whose
prediction lies within 0.4 decades of a threshold are not asked.
"""

import math

import numpy as np
import pytest

from sweeper.config.schema import Config, InitConfig, ModelConfig, TaskConfig
from sweeper.config.schema import VerdictConfig
from sweeper.record import verdict
from sweeper.train import engine

pytestmark = pytest.mark.slow  # 34 runs of 21 layers or fewer, 200 steps each

WIDTH, STEPS = 128, 200
DEPTHS = (2, 6, 11, 21)
THRESHOLD = 1.0  # conf/verdict/default.yaml: vanish_decades, explode_decades


def _cfg(activation: str, init: InitConfig, depth: int, seed: int) -> Config:
    return Config(
        model=ModelConfig(width=WIDTH, activation=activation),
        init=init,
        task=TaskConfig(
            name="gaussian",
            batch_size=64,
            input_dim=WIDTH,
            output_dim=1,
            targets="teacher",
            teacher_seed=0,
            train_size=2048,
            probe_size=128,
        ),
        depth=depth,
        steps=STEPS,
        log_every=20,
        seed=seed,
    )


def _relu_decades(sigma_w2: float, depth: int) -> float:
    return (depth - 1) / 2 * math.log10(sigma_w2 / 2)


def _expected(decades: float) -> str | None:
    """The verdict a textbook gives a signal change of `decades`; None near a
    threshold, where finite width may tip it either way."""
    if abs(abs(decades) - THRESHOLD) < 0.4:
        return None
    if decades < -THRESHOLD:
        return "vanishing"
    return "exploding" if decades > THRESHOLD else "healthy"


CASES = [
    (f"relu sigma_w2={s}", "relu", InitConfig(name="scaled", sigma_w2=s, sigma_b2=0.0))
    for s in (1.0, 2.0, 3.0)
] + [("relu he_normal", "relu", InitConfig(name="he_normal"))]


def _judged(cfgs: list[Config]) -> list[tuple[str, dict]]:
    m = engine.train(cfgs)
    out = []
    for r, cfg in enumerate(cfgs):
        layer = {name: values[:, r] for name, values in m.layer.items()}
        run = {name: values[:, r] for name, values in m.run.items()}
        figs = verdict.figures(layer, run, m.steps, m.baseline_loss)
        name, _ = verdict.judge(figs, int(m.diverged_at[r]), VerdictConfig())
        out.append((name, figs))
    return out


@pytest.mark.parametrize("depth", DEPTHS)
def test_relu_verdicts_follow_he_et_al_at_every_depth(depth):
    cases = [(label, act, init) for label, act, init in CASES]
    cfgs = [_cfg(act, init, depth, seed) for _, act, init in cases for seed in (0, 1)]
    results = _judged(cfgs)  # one program per depth: the inits are per-run weights
    for index, (label, _, init) in enumerate(cases):
        sigma_w2 = init.sigma_w2 or 2.0  # he_normal: 2 / fan_in
        predicted = _relu_decades(sigma_w2, depth)
        for name, figs in results[2 * index : 2 * index + 2]:
            # the measurement itself: within finite-width scatter of the prediction
            assert figs["signal_decades"] == pytest.approx(predicted, abs=0.35), label
            expected = _expected(predicted)
            if expected is not None:
                assert name == expected, (label, depth, predicted, figs)


def test_sigmoid_with_glorot_weights_vanishes_with_hidden_depth(depth=11):
    results = _judged(
        [_cfg("sigmoid", InitConfig(name="xavier"), depth, s) for s in (0, 1)]
    )
    bound = (depth - 1) * 0.5 * math.log10(1 / 8)  # at least this many decades lost
    for name, figs in results:
        assert figs["signal_decades"] < bound + 0.2
        assert name == "vanishing"
        assert np.isfinite(figs["signal_slope"]) and figs["signal_slope"] < -0.45
