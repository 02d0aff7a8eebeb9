"""`model=mlp`: `depth` Dense layers, depth - 1 hidden ones of `model.width` units.

Options: `model.norm` normalizes each hidden layer's z (layer: over its units; batch:
over the batch, with running statistics for the probe) before the activation, with a
learned scale and offset; `model.residual` adds an identity skip around each hidden
layer whose input is as wide as it (h <- h + act(z)). TensorFlow is imported in
`forward` only: the planner reads `key` and `param_specs`.
"""

import numpy as np

from sweeper.config.options import ACTIVATIONS
from sweeper.config.checks import ConfigError
from sweeper.config.schema import Config, InitConfig
from sweeper.contract import BIAS, KERNEL, OFFSET, SCALE, ParamSpec
from sweeper.train.initializers import bias_initializer, weight_initializer
from sweeper.train.seeds import seed_for

EPSILON = 1e-3  # Keras' LayerNormalization and BatchNormalization default
MOMENTUM = 0.99  # Keras' BatchNormalization default, for the running statistics


class MLP:
    """A stack of Dense layers, hidden ones activated, the output layer linear."""

    def __init__(
        self,
        sizes: tuple[int, ...],
        activation: str,
        residual: bool = False,
        norm: str = "none",
    ):
        self.sizes = sizes  # units from input to output, e.g. (1, 16, 16, 1)
        self.activation = activation
        self.residual, self.norm = residual, norm
        self.relu_like = ACTIVATIONS[activation].relu_like

    @classmethod
    def from_config(cls, cfg: Config, input_dim: int, output_dim: int) -> "MLP":
        """The config's net; ConfigError for options that cannot work together."""
        hidden = (cfg.model.width,) * (cfg.depth - 1)
        sizes = (input_dim, *hidden, output_dim)
        model = cls(sizes, cfg.model.activation, cfg.model.residual, cfg.model.norm)
        if model.residual and not any(map(model.skips, range(model.hidden))):
            raise ConfigError(
                "The value for `model.residual` must be false for this net, but true "
                "was passed: no hidden layer is as wide as its input (depth >= 3 has "
                f"one; model.width={cfg.model.width}, inputs {input_dim})."
            )
        if model.norm == "batch" and cfg.task.batch_size < 2:
            raise ConfigError(
                "The value for `model.norm` must not be batch with task.batch_size="
                f"{cfg.task.batch_size}, but 'batch' was passed: batch statistics "
                "need a batch of at least 2."
            )
        return model

    def key(self) -> tuple:
        """What makes another program: the layer sizes, activation and options."""
        key = ("mlp", self.sizes, self.activation)
        if self.residual or self.norm != "none":  # the plain net's key as before
            key += (self.residual, self.norm)
        return key

    @property
    def hidden(self) -> int:
        return len(self.sizes) - 2

    def skips(self, layer: int) -> bool:
        """Whether hidden `layer` has an identity skip around it."""
        a, b = self.sizes[layer], self.sizes[layer + 1]
        return self.residual and layer < self.hidden and a == b

    def param_specs(self) -> list[ParamSpec]:
        """Kernel [in, out] and bias [out] of each layer, then a normalized hidden
        layer's scale and offset [out]."""
        specs = []
        for layer, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            specs += [ParamSpec(layer, KERNEL, (a, b)), ParamSpec(layer, BIAS, (b,))]
            if self.norm != "none" and layer < self.hidden:
                specs += [ParamSpec(layer, SCALE, (b,)), ParamSpec(layer, OFFSET, (b,))]
        return specs

    def buffer_shapes(self) -> list[tuple]:
        """Running mean and variance [units] of each batch-normalized layer."""
        if self.norm != "batch":
            return []
        return [(b,) for b in self.sizes[1:-1] for _ in ("mean", "variance")]

    def initial_buffers(self) -> list[np.ndarray]:
        """Keras' starting running statistics: mean 0, variance 1."""
        return [
            np.zeros(s, np.float32) if i % 2 == 0 else np.ones(s, np.float32)
            for i, s in enumerate(self.buffer_shapes())
        ]

    def initial_params(self, init: InitConfig, seed: int) -> list[np.ndarray]:
        """One run's parameters in `param_specs` order, float32, from its seed.

        Layer i's kernel draws from stream (seed, i, 0); its bias is `init.bias`, or
        a draw from (seed, i, 1) with `init.bias_like_weights` or `init=scaled`. A
        normalization starts as the identity: scale 1, offset 0.
        """
        params = []
        for spec in self.param_specs():
            if spec.role == KERNEL:
                value = weight_initializer(init, seed_for(seed, spec.layer, 0))(
                    spec.shape
                )
            elif spec.role == BIAS:
                draw = bias_initializer(init, seed_for(seed, spec.layer, 1))
                value = (
                    np.full(spec.shape, init.bias) if draw is None else draw(spec.shape)
                )
            else:
                value = np.full(spec.shape, 1.0 if spec.role == SCALE else 0.0)
            params.append(np.asarray(value, np.float32))
        return params

    def signal_shapes(self) -> list[tuple]:
        """Each layer's z per example: [units]."""
        return [(b,) for b in self.sizes[1:]]

    def forward(self, params: list, x, buffers=(), training: bool = True, signal=None):
        """Pre-activations z, outputs h and activation inputs of every layer, each
        [R, batch, units], the batch norm's updated running statistics, and each
        layer's input.

        `params` are [R, ...] tensors in `param_specs` order; `x` is [R, batch, in];
        `buffers` [R, units] tensors in `buffer_shapes` order. In training, batch
        norm uses each run's batch statistics; otherwise its running statistics.
        `signal`: zero tensors added to each z, whose gradient is dL/dz.
        """
        from sweeper.train._tf import tf
        from sweeper.train.activations import OPS

        act = OPS[self.activation]
        depth = len(self.sizes) - 1
        params, buffers = list(params), list(buffers)
        zs, hs, us, new_buffers, inputs, h = [], [], [], [], [], x
        for i in range(depth):
            kernel, bias = params.pop(0), params.pop(0)
            inputs.append(h)
            z = tf.matmul(h, kernel) + bias[:, None, :]
            if signal is not None:
                z = z + signal[i]
            u = z
            if i < depth - 1 and self.norm != "none":
                scale, offset = params.pop(0), params.pop(0)
                if self.norm == "layer":
                    mean, var = tf.nn.moments(z, axes=[2], keepdims=True)
                else:
                    stats = buffers[:2]
                    buffers = buffers[2:]
                    mean, var, updated = _batch_stats(tf, z, stats, training)
                    new_buffers += updated
                u = (z - mean) * tf.math.rsqrt(var + EPSILON)
                u = u * scale[:, None, :] + offset[:, None, :]
            out = act(u) if i < depth - 1 else z
            h = h + out if self.skips(i) else out
            zs.append(z)
            us.append(u)
            hs.append(h)
        return zs, hs, us, new_buffers, inputs


def _batch_stats(tf, z, running: list, training: bool):
    """Batch norm's mean and variance over the batch ([R, 1, units]) and the updated
    running statistics ([R, units] each)."""
    mean, var = tf.nn.moments(z, axes=[1], keepdims=True)
    if not training:
        return running[0][:, None, :], running[1][:, None, :], running
    updated = [
        MOMENTUM * old + (1 - MOMENTUM) * new[:, 0, :]
        for old, new in zip(running, (mean, var))
    ]
    return mean, var, updated
