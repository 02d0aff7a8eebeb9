"""Every option's TensorFlow-free facts, in one table per config group.

The schema checks names and fields against these tables, the planner reads optimizer
slot counts from them, and the engine builds initializers, activations and updates from
them. Adding an init, an optimizer or an activation touches its table entry here, its
YAML in conf/, and (for an optimizer or activation) its rule in sweeper/train.
"""

import math
from dataclasses import dataclass

# Keras' default spread per scale field, used when the YAML leaves the field unset.
KERAS_DEFAULT_SCALE = {"std": 0.05, "limit": 0.05, "gain": 1.0, "sigma_w2": 2.0}
# Variance of a Normal(0, 1) truncated at +-2 std, as Keras' TruncatedNormal draws it.
TRUNCATED_NORMAL_VARIANCE = 0.7737413


@dataclass(frozen=True)
class Init:
    """A weight initializer: the field that sets its spread, and Keras' recipe for it.

    `kind` is the Keras initializer; variance-scaling ones draw with variance
    `factor * gain**2 / fan` (fan by `mode`) from `distribution`.
    """

    scale_field: str  # "std", "limit" or "gain": the only scale field it reads
    kind: str  # normal, truncated_normal, uniform, variance_scaling, orthogonal
    factor: float = 1.0
    mode: str = ""  # fan_in, fan_avg (variance_scaling only)
    distribution: str = ""  # uniform, truncated_normal (variance_scaling only)

    def weight_variance(self, scale: float, fan_in: int, fan_out: int) -> float:
        """Variance of one kernel entry of a [fan_in, fan_out] layer."""
        if self.kind == "scaled":  # scale is sigma_w2: Var = sigma_w2 / fan_in
            return scale / fan_in
        if self.kind == "normal":
            return scale**2
        if self.kind == "truncated_normal":
            return scale**2 * TRUNCATED_NORMAL_VARIANCE
        if self.kind == "uniform":
            return scale**2 / 3
        if (
            self.kind == "orthogonal"
        ):  # orthonormal columns (or rows) of the longer side
            return scale**2 / max(fan_in, fan_out)
        fan = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        return self.factor * scale**2 / fan


INITS = {
    "normal": Init("std", "normal"),
    "truncated_normal": Init("std", "truncated_normal"),
    "uniform": Init("limit", "uniform"),
    "xavier": Init("gain", "variance_scaling", 1.0, "fan_avg", "uniform"),
    "glorot_normal": Init(
        "gain", "variance_scaling", 1.0, "fan_avg", "truncated_normal"
    ),
    "he_normal": Init("gain", "variance_scaling", 2.0, "fan_in", "truncated_normal"),
    "he_uniform": Init("gain", "variance_scaling", 2.0, "fan_in", "uniform"),
    "lecun_normal": Init("gain", "variance_scaling", 1.0, "fan_in", "truncated_normal"),
    "orthogonal": Init("gain", "orthogonal"),
    # The signal-propagation papers' parametrization (Poole et al. 2016): weights
    # N(0, sigma_w2 / fan_in), biases N(0, sigma_b2), in every layer.
    "scaled": Init("sigma_w2", "scaled"),
    # model=keras only: the model's own initializers, seeded from the run's seed
    "keep": Init("gain", "keep"),
}


@dataclass(frozen=True)
class Optimizer:
    """An update rule: its state tensors per parameter and the constants it reads."""

    slots: int  # e.g. Adam's m and v: 2
    hyperparams: tuple[str, ...]  # fields of `optimizer.*` it uses


OPTIMIZERS = {
    "sgd": Optimizer(0, ("lr",)),
    "momentum": Optimizer(1, ("lr", "momentum")),
    "adam": Optimizer(2, ("lr", "beta_1", "beta_2", "epsilon")),
    "rmsprop": Optimizer(1, ("lr", "rho", "epsilon")),
    "adagrad": Optimizer(1, ("lr", "initial_accumulator", "epsilon")),
}
# Every optimizer constant, each a per-run tensor in the program.
OPTIMIZER_HYPERPARAMS = tuple(
    dict.fromkeys(name for opt in OPTIMIZERS.values() for name in opt.hyperparams)
)


@dataclass(frozen=True)
class Activation:
    """A hidden activation."""

    # Its negative side passes (almost) no gradient: a unit never in the positive regime
    # over the probe inputs counts as dead.
    relu_like: bool


ACTIVATIONS = {
    "relu": Activation(True),
    "tanh": Activation(False),
    "sigmoid": Activation(False),
    "linear": Activation(False),
    "elu": Activation(True),
    "gelu": Activation(True),
    "selu": Activation(True),
    "leaky_relu": Activation(True),
}

# Clip kinds, applied in this order. Every run has a threshold for each, infinite for
# the kinds it does not use, so runs of different kinds share a program; `none` uses
# none.
CLIP_KINDS = ("value", "norm", "global_norm")
CLIPS = ("none", *CLIP_KINDS)


def clip_thresholds(name: str, threshold: float) -> dict:
    """A run's threshold per clip kind: `threshold` for `name`, inf for the others."""
    return {kind: threshold if kind == name else math.inf for kind in CLIP_KINDS}


# `objective=`: what the task function returns to Hydra, for sweepers that optimize it
# (hydra/sweeper=optuna); lower is better for each (record.verdict.objective).
OBJECTIVES = {
    "final_loss": "the probe loss of the trained net",
    "signal_decades": "|signal_decades|: decades the signal is off its size; 0 = kept",
}

# Each task and the task.* fields it reads besides name and batch_size; a field another
# task reads must stay unset (null) for it.
TASKS = {
    "identity": ("output_scale", "probe_size"),
    "gaussian": (
        "input_dim",
        "output_dim",
        "targets",
        "teacher_seed",
        "train_size",
        "probe_size",
    ),
    "digits": ("test_fraction", "split_seed"),
    "breast_cancer": ("test_fraction", "split_seed"),
    "wine": ("test_fraction", "split_seed"),
    "file": ("path", "target", "kind", "test_fraction", "split_seed"),
}
GAUSSIAN_TARGETS = ("teacher", "random")
MODELS = ("mlp", "keras")
NORMS = ("none", "layer", "batch")
