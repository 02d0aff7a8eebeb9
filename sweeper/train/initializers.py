"""`init=<name>` as the Keras initializer that implements it (see config.options.INITS).

TensorFlow is imported inside the function: a model's parameter specs are read by the
planner, which must not load it.
"""

from sweeper.config.options import INITS
from sweeper.config.schema import InitConfig


def weight_initializer(init: InitConfig, seed: int):
    """The Keras initializer `init=<name>` selects, scaled by its std, limit or gain."""
    import sweeper.train._tf  # noqa: F401  (TensorFlow first, quietly)
    import keras

    inits = keras.initializers
    option, scale = INITS[init.name], init.scale
    if option.kind == "scaled":  # Var = sigma_w2 / fan_in, untruncated
        return inits.VarianceScaling(scale, "fan_in", "untruncated_normal", seed)
    if option.kind == "normal":
        return inits.RandomNormal(0.0, scale, seed=seed)
    if option.kind == "truncated_normal":
        return inits.TruncatedNormal(0.0, scale, seed=seed)
    if option.kind == "uniform":
        return inits.RandomUniform(-scale, scale, seed=seed)
    if option.kind == "orthogonal":
        return inits.Orthogonal(scale, seed=seed)
    # Variance-scaling inits: the variance grows with the gain squared.
    factor = option.factor * scale**2
    return inits.VarianceScaling(factor, option.mode, option.distribution, seed)


def bias_initializer(init: InitConfig, seed: int):
    """The initializer of the biases, or None for the constant `init.bias`."""
    import sweeper.train._tf  # noqa: F401  (TensorFlow first, quietly)
    import keras

    if init.name == "scaled":
        sigma_b2 = init.sigma_b2 or 0.0
        if sigma_b2 == 0:
            return None  # zero biases (init.bias is 0 for init=scaled)
        return keras.initializers.RandomNormal(0.0, sigma_b2**0.5, seed=seed)
    if init.bias_like_weights:
        return weight_initializer(init, seed)
    return None


def layer_variances(init: InitConfig, shapes: list[tuple[int, int]]) -> dict:
    """What an init amounts to per layer in the literature's terms: sigma_w2 =
    fan_in * Var(kernel entry), sigma_b2 = Var(bias) (0 for a constant bias)."""
    option = INITS[init.name]
    sigma_w2, sigma_b2 = [], []
    for fan_in, fan_out in shapes:
        sigma_w2.append(fan_in * option.weight_variance(init.scale, fan_in, fan_out))
        if init.name == "scaled":
            sigma_b2.append(init.sigma_b2 or 0.0)
        elif init.bias_like_weights:  # Keras reads a bias's fans as (units, units)
            sigma_b2.append(option.weight_variance(init.scale, fan_out, fan_out))
        else:
            sigma_b2.append(0.0)
    return {"sigma_w2": sigma_w2, "sigma_b2": sigma_b2}
