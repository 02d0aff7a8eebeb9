"""`model=keras`: the user's own Keras 3 model as a sweeper model component.

Per-layer figures come from taps on its Dense and Conv layers (train/keras_taps.py)
while it runs inside its own `stateless_call`. The runs of one program are stacked by
`tf.vectorized_map` over that `stateless_call`; a model that it cannot convert
without a loop is traced once per run (a Python loop over the run axis) and trains
one run per program, since R copies of it would grow the compile with R.
"""

import numpy as np

from sweeper.config.checks import ConfigError
from sweeper.config.schema import Config, InitConfig
from sweeper.contract import BIAS, KERNEL, ParamSpec
from sweeper.train import keras_builder
from sweeper.train.initializers import bias_initializer, weight_initializer
from sweeper.train.keras_taps import Taps
from sweeper.train.seeds import seed_for


class KerasModel:
    """A user's Keras model: its weights stacked per run, its forward pass tapped."""

    runs: int | None = None  # runs of the program being traced (the engine sets it)

    def __init__(self, build: str, settings: dict, input_dim: int, output_dim: int):
        self.build, self.settings = build, dict(settings)
        self.input_dim, self.output_dim = input_dim, output_dim
        self.model = keras_builder.build(build, (input_dim,), output_dim, settings)
        self.taps = Taps(self.model, build)
        self.layers = self.taps.layers
        if not self.layers:
            raise ConfigError(
                f"The model of `model.build` must hold a Dense or Conv layer, but "
                f"{build!r} has none to measure."
            )
        self.relu_like, self.layer_names = self.taps.relu_like, self.taps.layer_names
        # one eager pass with the model's own weights: each measured layer's output
        # size, and a check that the model calls each of them once
        zeros = np.zeros((1, input_dim), np.float32)
        taps = self.taps.traced(lambda: self.model(zeros))
        self._shapes = [(int(tap[1].shape[1]),) for tap in taps]
        self._dense = [tap[3] is not None for tap in taps]
        self.vectorizes, self.why_one_by_one = self._vectorizes()
        # a model traced run by run trains alone: R copies would grow the compile
        self.max_runs = None if self.vectorizes else 1

    @classmethod
    def from_config(cls, cfg: Config, input_dim: int, output_dim: int) -> "KerasModel":
        if not cfg.model.build:
            raise ConfigError(
                "The value for `model.build` must be 'package.module:function' with "
                "model=keras, but nothing was passed."
            )
        return cls(cfg.model.build, cfg.model.settings, input_dim, output_dim)

    def key(self) -> tuple:
        return key_of(self.build, self.settings, self.input_dim, self.output_dim)

    def param_specs(self) -> list[ParamSpec]:
        """The model's trainable variables, in its `trainable_variables` order."""
        return self.taps.param_specs()

    def buffer_shapes(self) -> list[tuple]:
        return [tuple(v.shape) for v in self.model.non_trainable_variables]

    def initial_buffers(self) -> list[np.ndarray]:
        return [
            np.asarray(v.numpy(), np.float32)
            for v in self.model.non_trainable_variables
        ]

    def initial_params(self, init: InitConfig, seed: int) -> list[np.ndarray]:
        """One run's trainable weights: measured layers' kernels and biases drawn as
        the MLP draws layer i's (streams (seed, i, 0) and (seed, i, 1)); everything
        else, and everything with `init=keep`, as the model's own initializers
        draw it with the run's seed."""
        specs = self.param_specs()
        own = self.model
        if init.name == "keep" or any(s.role not in (KERNEL, BIAS) for s in specs):
            # the model's own draws are needed: build it afresh, seeded
            own = keras_builder.build(
                self.build, (self.input_dim,), self.output_dim, self.settings, seed
            )
        values = [np.asarray(v.numpy(), np.float32) for v in own.trainable_variables]
        if init.name == "keep":
            return values
        for i, spec in enumerate(specs):
            if spec.role == KERNEL:
                draw = weight_initializer(init, seed_for(seed, spec.layer, 0))
                values[i] = np.asarray(draw(spec.shape), np.float32)
            elif spec.role == BIAS:
                draw = bias_initializer(init, seed_for(seed, spec.layer, 1))
                value = (
                    np.full(spec.shape, init.bias) if draw is None else draw(spec.shape)
                )
                values[i] = np.asarray(value, np.float32)
        return values

    def signal_shapes(self) -> list[tuple]:
        """Each measured layer's output per example, flattened: [units]."""
        return self._shapes

    def forward(self, params: list, x, buffers=(), training: bool = True, signal=None):
        """Every measured layer's z, h and activation input (z), flattened to [R,
        batch, units], the model's output as the last h, the updated non-trainable
        state, and each Dense layer's input (None for a Conv: its per-example kernel
        gradient is not rank one).

        `signal`: zero tensors [R, batch, units] added to each layer's z, whose
        gradient is dL/dz.
        """
        from sweeper.train._tf import tf

        params, buffers = list(params), list(buffers)
        signal = list(signal) if signal is not None else []
        if self.vectorizes:
            one = lambda args: self._one(*args, training)  # noqa: E731
            elems = (params, buffers, x, signal)
            zs, hs, out, new_buffers, inputs = tf.vectorized_map(one, elems)
        else:  # one run after another: R copies of the model in the program
            runs = params[0].shape[0] or self.runs  # the loop's shapes hide it
            results = [
                self._one(
                    [p[r] for p in params],
                    [b[r] for b in buffers],
                    x[r],
                    [s[r] for s in signal],
                    training,
                )
                for r in range(runs)
            ]
            zs, hs, out, new_buffers, inputs = (
                [tf.stack(list(t), axis=0) for t in zip(*part)]
                for part in zip(*results)
            )
        out = out[0]
        hs = list(hs)
        hs[-1] = out if hs[-1].shape[-1] == out.shape[-1] else hs[-1]
        inputs = [h if dense else None for h, dense in zip(inputs, self._dense)]
        return list(zs), hs, list(zs), list(new_buffers), inputs

    def _one(self, params, buffers, x, signal, training: bool):
        """One run through the model, its measured layers tapped: z, h, the output,
        the new non-trainable state and each layer's input (a placeholder for layers
        that are not Dense, so that every run returns tensors)."""
        result = {}

        def call():
            result["out"] = self.model.stateless_call(
                list(params), list(buffers), x, **self.taps.mode(training)
            )

        taps = self.taps.traced(call, list(signal) or None)
        out, new_state = result["out"]
        zs = [tap[1] for tap in taps]
        hs = [tap[2] for tap in taps]
        inputs = [tap[3] if tap[3] is not None else tap[1][:, :0] for tap in taps]
        return zs, hs, [out], list(new_state), inputs

    def _vectorizes(self) -> tuple[bool, str | None]:
        """Whether tf.vectorized_map runs the model over a run axis without falling
        back to a loop; if not, why (its first line)."""
        from sweeper.train._tf import tf

        params = [tf.stack([v.value] * 2) for v in self.model.trainable_variables]
        buffers = [tf.stack([v.value] * 2) for v in self.model.non_trainable_variables]
        x = tf.zeros([2, 2, self.input_dim])

        @tf.function(autograph=False)
        def attempt():
            one = lambda args: self._one(*args, True)  # noqa: E731
            return tf.vectorized_map(
                one, (params, buffers, x, []), fallback_to_while_loop=False
            )

        try:
            attempt()
        except Exception as exc:  # noqa: BLE001 (any op pfor cannot convert)
            return False, str(exc).strip().splitlines()[0][:200]
        return True, None


def key_of(build: str, settings: dict, input_dim: int, output_dim: int) -> tuple:
    """A Keras model's program key: its builder, settings and the task's sizes."""
    settings = tuple(sorted((k, repr(v)) for k, v in settings.items()))
    return ("keras", build, settings, input_dim, output_dim)
