"""Short names -> the Keras and TensorFlow objects that implement them.

TensorFlow is imported inside the functions so the schema can list names without it.
"""

import numpy as np

from sweeper.schema import InitConfig


def seed_for(seed: int, *path: int) -> int:
    """An independent 31-bit seed for one part of a run (a layer's kernel, the data)."""
    return int(np.random.SeedSequence([seed, *path]).generate_state(1)[0] >> 1)


def weight_initializer(init: InitConfig, seed: int):
    """The Keras initializer `init=<name>` selects, scaled by its std, limit or gain."""
    import sweeper._tf  # noqa: F401  (TensorFlow first, quietly)
    import keras

    inits = keras.initializers
    scale = init.scale
    gain2 = scale**2  # for the gain-scaled inits: variance grows with the gain squared
    build = {
        "normal": lambda: inits.RandomNormal(0.0, scale, seed=seed),
        "truncated_normal": lambda: inits.TruncatedNormal(0.0, scale, seed=seed),
        "uniform": lambda: inits.RandomUniform(-scale, scale, seed=seed),
        "xavier": lambda: inits.VarianceScaling(gain2, "fan_avg", "uniform", seed),
        "glorot_normal": lambda: inits.VarianceScaling(
            gain2, "fan_avg", "truncated_normal", seed
        ),
        "he_normal": lambda: inits.VarianceScaling(
            2.0 * gain2, "fan_in", "truncated_normal", seed
        ),
        "he_uniform": lambda: inits.VarianceScaling(
            2.0 * gain2, "fan_in", "uniform", seed
        ),
        "lecun_normal": lambda: inits.VarianceScaling(
            gain2, "fan_in", "truncated_normal", seed
        ),
        "orthogonal": lambda: inits.Orthogonal(scale, seed=seed),
    }
    return build[init.name]()


def initial_weights(
    init: InitConfig, sizes: list[int], seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(kernel, bias) of each Dense layer between consecutive `sizes`, float32."""
    layers = []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        kernel = weight_initializer(init, seed_for(seed, layer, 0))((fan_in, fan_out))
        if init.bias_like_weights:
            bias = weight_initializer(init, seed_for(seed, layer, 1))((fan_out,))
        else:
            bias = np.full((fan_out,), init.bias)
        layers.append((np.asarray(kernel, np.float32), np.asarray(bias, np.float32)))
    return layers


def activation(name: str):
    """The TensorFlow op of a hidden activation."""
    from sweeper._tf import tf

    return {
        "relu": tf.nn.relu,
        "tanh": tf.math.tanh,
        "sigmoid": tf.math.sigmoid,
        "linear": tf.identity,
        "elu": tf.nn.elu,
        "gelu": lambda z: tf.nn.gelu(z, approximate=False),
        "selu": tf.nn.selu,
        "leaky_relu": lambda z: tf.nn.leaky_relu(z, alpha=0.2),
    }[name]


# Activations whose negative side passes (almost) no gradient: a unit that is never in
# the positive regime over the probe inputs counts as dead.
RELU_LIKE = ("relu", "elu", "gelu", "selu", "leaky_relu")
