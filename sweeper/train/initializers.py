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
