"""`model=mlp`: `depth` Dense layers, depth - 1 hidden ones of `model.width` units.

TensorFlow is imported in `forward` only: the planner reads `key` and `param_specs`.
"""

import numpy as np

from sweeper.config.options import ACTIVATIONS
from sweeper.config.schema import Config, InitConfig
from sweeper.contract import BIAS, KERNEL, ParamSpec
from sweeper.train.initializers import weight_initializer
from sweeper.train.seeds import seed_for


class MLP:
    """A stack of Dense layers, hidden ones activated, the output layer linear."""

    def __init__(self, sizes: tuple[int, ...], activation: str):
        self.sizes = sizes  # units from input to output, e.g. (1, 16, 16, 1)
        self.activation = activation
        self.relu_like = ACTIVATIONS[activation].relu_like

    @classmethod
    def from_config(cls, cfg: Config, input_dim: int, output_dim: int) -> "MLP":
        hidden = (cfg.model.width,) * (cfg.depth - 1)
        return cls((input_dim, *hidden, output_dim), cfg.model.activation)

    def key(self) -> tuple:
        """What makes another program: the layer sizes and the activation."""
        return ("mlp", self.sizes, self.activation)

    def param_specs(self) -> list[ParamSpec]:
        """Kernel [in, out] and bias [out] of each layer, in that order."""
        pairs = zip(self.sizes[:-1], self.sizes[1:])
        return [
            spec
            for layer, (a, b) in enumerate(pairs)
            for spec in (ParamSpec(layer, KERNEL, (a, b)), ParamSpec(layer, BIAS, (b,)))
        ]

    def initial_params(self, init: InitConfig, seed: int) -> list[np.ndarray]:
        """One run's parameters in `param_specs` order, float32, from its seed.

        Layer i's kernel draws from stream (seed, i, 0); its bias is `init.bias`, or
        with `init.bias_like_weights` a draw of the same initializer from (seed, i, 1).
        """
        params = []
        for spec in self.param_specs():
            if spec.role == KERNEL:
                seed_i = seed_for(seed, spec.layer, 0)
                value = weight_initializer(init, seed_i)(spec.shape)
            elif init.bias_like_weights:
                value = weight_initializer(init, seed_for(seed, spec.layer, 1))(
                    spec.shape
                )
            else:
                value = np.full(spec.shape, init.bias)
            params.append(np.asarray(value, np.float32))
        return params

    def forward(self, params: list, x) -> tuple[list, list, list]:
        """Pre-activations z, outputs h and activation inputs of every layer, each
        [R, batch, units] (without normalization the activation reads z itself).

        `params` are [R, ...] tensors in `param_specs` order; `x` is [R, batch, in].
        """
        from sweeper.train._tf import tf
        from sweeper.train.activations import OPS

        act = OPS[self.activation]
        depth = len(self.sizes) - 1
        zs, hs, h = [], [], x
        for i in range(depth):
            z = tf.matmul(h, params[2 * i]) + params[2 * i + 1][:, None, :]
            h = act(z) if i < depth - 1 else z
            zs.append(z)
            hs.append(h)
        return zs, hs, zs
