"""Measurements at initialization against published signal-propagation theory.

A ReLU net with weights N(0, sigma_w2 / fan_in) and zero biases multiplies the mean
squared back-propagated signal by sigma_w2 / 2 at every hidden layer it passes back
through (He et al. 2015, eq. 13), so across D hidden layers the per-example signal's
norm changes by (D / 2) log10(sigma_w2 / 2) decades; the activations grow forward by the
same factor, so the per-example kernel-gradient norm is the same in every layer
(Glorot & Bengio 2010, sec. 4.2.1). A linear net of orthogonal square layers keeps
both norms exactly.
"""

import numpy as np
import pytest

from sweeper import theory
from sweeper.config.schema import Config, InitConfig, ModelConfig, TaskConfig
from sweeper.train import engine

pytestmark = pytest.mark.slow  # width 256, 21 layers, 100 runs

HIDDEN = 20  # hidden layers: depth 21 with the readout
SIGMA_W2 = (1.0, 1.5, 2.0, 2.5, 3.0)


def _net(init: InitConfig, activation: str, seed: int, hidden=HIDDEN) -> Config:
    return Config(
        model=ModelConfig(width=256, activation=activation),
        init=init,
        task=TaskConfig(
            name="gaussian",
            batch_size=64,
            input_dim=256,
            output_dim=1,
            targets="random",
            teacher_seed=0,
            train_size=1024,
            probe_size=64,
        ),
        depth=hidden + 1,
        steps=1,
        log_every=1,
        seed=seed,
    )


def _decades(m, name):
    """log10 of the first layer's figure over the readout's, at step 0, per run."""
    values = m.layer[name][0]  # [R, layers]
    return np.log10(values[:, 0] / values[:, -1])


def test_relu_signal_follows_he_et_al_and_kernel_gradients_stay_level():
    cfgs = [
        _net(InitConfig(name="scaled", sigma_w2=s, sigma_b2=0.0), "relu", seed)
        for s in SIGMA_W2
        for seed in range(20)
    ]
    m = engine.train(cfgs)  # one program: the sigmas are per-run weights
    signal = _decades(m, "delta_rms").reshape(len(SIGMA_W2), 20)
    kernel = _decades(m, "grad_norm_per_example").reshape(len(SIGMA_W2), 20)
    for sigma_w2, runs, grads in zip(SIGMA_W2, signal, kernel):
        predicted = HIDDEN / 2 * np.log10(sigma_w2 / 2)
        assert abs(np.mean(runs) - predicted) < 0.15, (sigma_w2, runs.mean())
        assert abs(np.mean(grads)) < 0.15, (sigma_w2, grads.mean())
        # sweeper's own mean-field module, per hidden layer, against the measurement
        layers = [sigma_w2] * (HIDDEN + 1)
        theory_slope = theory.predict("relu", layers, [0.0] * (HIDDEN + 1), 1.0)[
            "slope"
        ]
        assert abs(np.mean(runs) / HIDDEN - theory_slope) < 0.01


def test_a_linear_orthogonal_net_keeps_every_norm_exactly():
    orthogonal = InitConfig(name="orthogonal")
    cfgs = [_net(orthogonal, "linear", seed, hidden=10) for seed in range(5)]
    m = engine.train(cfgs)
    for name in ("delta_rms", "grad_norm_per_example"):
        decades = _decades(m, name)
        np.testing.assert_allclose(decades, 0.0, atol=2e-6)  # float32, 11 layers
        assert np.ptp(decades) < 2e-6  # no spread over seeds
