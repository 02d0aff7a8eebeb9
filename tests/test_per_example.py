"""Per-example signal and kernel-gradient norms against finite differences in float64.

The reference below is independent of sweeper's code: its own forward pass of the net
the options describe (layer norm, residual skips), each example's own loss, and central
differences for dL_b/dz (each layer's pre-activation) and dL_b/dW, one example at a
time. Only the initial weights and the batch are taken from sweeper, as inputs.
"""

import numpy as np
import pytest

from sweeper.config.schema import (
    Config,
    InitConfig,
    ModelConfig,
    OptimizerConfig,
    TaskConfig,
)
from sweeper.train import engine
from sweeper.train.components import model_of, task_of

pytestmark = pytest.mark.slow  # four compiled programs

EPS = 1e-3  # layer norm's epsilon, as Keras' (and the README's) default


def _config(norm: str, residual: bool) -> Config:
    return Config(
        model=ModelConfig(width=8, activation="tanh", residual=residual, norm=norm),
        init=InitConfig(name="xavier", bias=0.1),
        optimizer=OptimizerConfig(lr=1e-2),
        task=TaskConfig(
            name="gaussian",
            batch_size=4,
            input_dim=8,
            output_dim=2,
            targets="teacher",
            teacher_seed=3,
            train_size=64,
            probe_size=16,
        ),
        depth=4,
        steps=1,
        log_every=1,
        seed=5,
    )


def _forward(params, x, norm, residual, bump=None):
    """Every layer's z and the output for inputs x [batch, in]; `bump` = (layer, dz)
    adds dz to that layer's z."""
    params, h, zs = list(params), x, []
    depth = 4
    for i in range(depth):
        kernel, bias = params.pop(0), params.pop(0)
        z = h @ kernel + bias
        if bump is not None and bump[0] == i:
            z = z + bump[1]
        zs.append(z)
        if i == depth - 1:
            return zs, z
        u = z
        if norm == "layer":
            scale, offset = params.pop(0), params.pop(0)
            mean = z.mean(axis=1, keepdims=True)
            var = z.var(axis=1, keepdims=True)
            u = (z - mean) / np.sqrt(var + EPS) * scale + offset
        out = np.tanh(u)
        h = h + out if residual and h.shape[1] == out.shape[1] else out


def _loss(params, x, y, norm, residual, bump=None):
    _, out = _forward(params, x, norm, residual, bump)
    return np.mean((y - out) ** 2)  # one example's loss: the mean over its outputs


def _reference(params, x, y, norm, residual, h=1e-6):
    """delta_rms and grad_norm_per_example of each layer by central differences."""
    kernels = [i for i in range(len(params)) if params[i].ndim == 2]
    delta2, grad2 = np.zeros(len(kernels)), np.zeros(len(kernels))
    for b in range(len(x)):
        xb, yb = x[b : b + 1], y[b : b + 1]
        zs, _ = _forward(params, xb, norm, residual)
        for layer, index in enumerate(kernels):
            units = zs[layer].shape[1]
            delta = np.zeros(units)
            for j in range(units):
                dz = np.zeros((1, units))
                dz[0, j] = h
                up = _loss(params, xb, yb, norm, residual, (layer, dz))
                down = _loss(params, xb, yb, norm, residual, (layer, -dz))
                delta[j] = (up - down) / (2 * h)
            grad = np.zeros_like(params[index])
            for entry in np.ndindex(grad.shape):
                moved = [p.copy() for p in params]
                moved[index][entry] += h
                up = _loss(moved, xb, yb, norm, residual)
                moved[index][entry] -= 2 * h
                down = _loss(moved, xb, yb, norm, residual)
                grad[entry] = (up - down) / (2 * h)
            delta2[layer] += np.sum(delta**2)
            grad2[layer] += np.sum(grad**2)
    return np.sqrt(delta2 / len(x)), np.sqrt(grad2 / len(x))


@pytest.mark.parametrize(
    "norm, residual", [("layer", True), ("none", True), ("layer", False)]
)
def test_per_example_norms_match_finite_differences(norm, residual):
    cfg = _config(norm, residual)
    task = task_of(cfg)
    params = [
        p.astype(np.float64)
        for p in model_of(cfg, task).initial_params(cfg.init, cfg.seed)
    ]
    indices, pool_x, pool_y = task.training_data(cfg.steps, cfg.seed)
    x, y = pool_x[indices[0]].astype(np.float64), pool_y[indices[0]].astype(np.float64)
    want_delta, want_grad = _reference(params, x, y, norm, residual)
    got = engine.train([cfg])
    np.testing.assert_allclose(got.layer["delta_rms"][0, 0], want_delta, rtol=2e-4)
    np.testing.assert_allclose(
        got.layer["grad_norm_per_example"][0, 0], want_grad, rtol=2e-4
    )
    # The batch figures stay batch figures: a batch of 4 is not one example.
    assert not np.allclose(got.layer["grad_norm"][0, 0], want_grad, rtol=1e-2)


def test_batch_norm_signal_is_measured_where_the_bias_gradient_is_zero():
    cfg = _config("batch", False)
    got = engine.train([cfg])
    delta = got.layer["delta_rms"][0, 0]
    bias = got.layer["bias_grad_norm"][0, 0]
    hidden = slice(0, cfg.depth - 1)
    # The batch's mean is subtracted after the bias: dL/db sums dL/dz over the batch,
    # which batch norm makes exactly zero (to float32 rounding); dL/dz is not.
    assert np.all(delta[hidden] > 1e-3)
    assert np.all(bias[hidden] < 1e-5 * delta[hidden])
    assert bias[-1] > 1e-3  # the readout is not normalized
