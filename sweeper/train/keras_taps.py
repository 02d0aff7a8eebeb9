"""Reading a Keras model's measured layers while it runs: taps.

The measured layers are those with a kernel (Dense, Conv), in the model's order; every
other layer runs unmeasured. While a call runs tapped, each measured layer's `call` is
wrapped so that its fused activation is applied outside it, which exposes the
pre-activation z, and a zero `signal` tensor added to z makes the per-example signal
dL/dz the gradient by that tensor. Shared by `model=keras` (a sweep's stacked runs)
and `sweeper.keras` (a user's own `fit`).
"""

import inspect

from sweeper.config.checks import ConfigError
from sweeper.contract import BIAS, KERNEL, ParamSpec
from sweeper.train import keras_builder

RELU_LIKE = ("relu", "relu6", "leaky_relu")
OTHER = "other"  # a trainable weight that is not a measured layer's kernel or bias


class Taps:
    """A Keras model's measured layers, their roles in its weights, and its taps.

    `name` names the model in errors (its `model.build`, or its class)."""

    def __init__(self, model, name: str):
        self.model, self.name = model, name
        self.layers = keras_builder.measured_layers(model)
        hidden = self.layers[:-1]
        self.relu_like = bool(hidden) and all(
            getattr(layer.activation, "__name__", "") in RELU_LIKE for layer in hidden
        )
        self.layer_names = [layer.name for layer in self.layers]
        # as Keras' own train step: `training` only for a call that takes it
        parameters = inspect.signature(model.call).parameters.values()
        self.takes_training = any(
            p.name == "training" or p.kind is p.VAR_KEYWORD for p in parameters
        )

    def mode(self, training: bool) -> dict:
        """The keyword arguments that call the model in training mode or not."""
        return {"training": training} if self.takes_training else {}

    def _role(self, variable) -> tuple[int, str]:
        for index, layer in enumerate(self.layers):
            if variable is getattr(layer, "kernel", None):
                return index, KERNEL
            if variable is getattr(layer, "bias", None):
                return index, BIAS
        return -1, OTHER  # e.g. a normalization's scale and offset

    def param_specs(self) -> list[ParamSpec]:
        """The model's trainable variables, in its `trainable_variables` order."""
        specs = []
        for variable in self.model.trainable_variables:
            layer, role = self._role(variable)
            specs.append(ParamSpec(layer, role, tuple(variable.shape)))
        return specs

    def traced(self, call, signal=None) -> list:
        """Run `call` with every measured layer tapped; the taps in layer order, each
        (index, z [batch, units], h [batch, units], the layer's input if it is a
        Dense layer on [batch, in], else None).

        `signal`: one zero tensor [batch, units] per layer, added to its z."""
        from sweeper.train._tf import tf

        taps, originals = [], [layer.call for layer in self.layers]
        for index, layer in enumerate(self.layers):
            layer.call = _tapped(layer, index, taps, signal, tf)
        try:
            call()
        finally:
            for layer, original in zip(self.layers, originals):
                layer.call = original
        taps.sort(key=lambda tap: tap[0])
        if [tap[0] for tap in taps] != list(range(len(self.layers))):
            raise ConfigError(
                f"The model of `model.build` must call each of its Dense and Conv "
                f"layers once per forward pass, but {self.name!r} does not."
            )
        return taps


def _tapped(layer, index: int, taps: list, signal, tf):
    """`layer.call` with its activation applied outside it and z, h, input kept."""
    call = layer.call
    activation = layer.activation

    def tapped(inputs, *args, **kwargs):
        layer.activation = None
        try:
            z = call(inputs, *args, **kwargs)
        finally:
            layer.activation = activation
        batch = tf.shape(z)[0]
        flat = tf.reshape(z, [batch, -1])
        if signal is not None:
            flat = flat + signal[index]
            z = tf.reshape(flat, tf.shape(z))
        h = activation(z) if activation is not None else z
        dense = type(layer).__name__ == "Dense" and len(inputs.shape) == 2
        taps.append(
            (index, flat, tf.reshape(h, [batch, -1]), inputs if dense else None)
        )
        return h

    return tapped
