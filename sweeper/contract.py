"""What the planner, the engine and the writers agree on; free of TensorFlow and pandas.

The sweep planner keys programs with `ProgramKey`, the engine returns `Measurements`
holding the metrics named here, and the file and TensorBoard writers write those names.
No side imports another to learn them.
"""

import math
from dataclasses import dataclass, field

import numpy as np

# What the compiled step measures per layer, one column each in metrics.csv.
LAYER_METRICS = (
    "grad_norm",  # L2 norm of the kernel gradient, before clipping
    "grad_var",  # variance of the kernel gradient's entries
    "grad_max",  # largest |entry| of the kernel gradient
    "grad_zero_frac",  # fraction of kernel-gradient entries that are exactly 0
    "grad_norm_clipped",  # L2 norm of the kernel gradient after clipping
    "bias_grad_norm",  # L2 norm of dL/db = back-propagated signal dL/dz
    "weight_norm",  # L2 norm of the kernel
    "update_ratio",  # |kernel update| / |kernel| of this step
    "act_rms",  # RMS of the layer's output over the probe inputs
    "dead_frac",  # fraction of units never active on the probe (ReLU-like layers)
    # Per-example figures (what mean-field theory predicts), from the logged step's
    # batch: delta_b = dL_b/dz_b, the back-propagated signal of example b's own loss
    # L_b (the batch loss is the mean of the L_b) at the layer's pre-activation z.
    "delta_rms",  # sqrt(mean_b |delta_b|^2)
    # sqrt(mean_b |dL_b/dW|^2) = sqrt(mean_b |delta_b|^2 |h_b|^2), h_b the layer's input
    "grad_norm_per_example",
    # |kernel - initial kernel| / |initial kernel|: how far the layer has learned away
    # from its initialization (0 at step 0)
    "drift",
)
# ... and per run (repeated on each layer's row of metrics.csv).
RUN_METRICS = (
    "loss",  # training loss of this step's batch
    "probe_loss",  # mean loss over the fixed probe inputs
    "out_spread",  # std of the estimate over the probe / std of the target over it
    "global_grad_norm",  # L2 norm of all gradients of the run, before clipping
    "global_grad_norm_clipped",  # the same after clipping
    "accuracy",  # classification: share of this step's batch predicted right (else NaN)
    "probe_accuracy",  # classification: the same over the probe (held-out) set
)

BINS = 30  # buckets per TensorBoard histogram, as TensorBoard's own default
# Histograms per layer with tensorboard=true. The step returns `<name>_counts`
# [K, R, layers, BINS] and `<name>_range` [K, R, layers, 2] for each.
HISTOGRAMS = {
    "grad": "Kernel gradient of the layer, before clipping.",
    "weights": "Kernel of the layer (after `step` updates).",
}
HISTOGRAM_ARRAYS = tuple(
    f"{n}_{part}" for n in HISTOGRAMS for part in ("counts", "range")
)

# Parameter roles a model declares; measurements are taken per layer from these.
KERNEL, BIAS = "kernel", "bias"
SCALE, OFFSET = "scale", "offset"  # a normalization's learned gain and shift


@dataclass(frozen=True)
class ParamSpec:
    """One parameter tensor of a model: its layer, its role and its shape (one run)."""

    layer: int
    role: str  # KERNEL or BIAS
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class ProgramKey:
    """What the runs of one compiled program share; the rest are per-run tensors.

    Optimizers may differ: the program steps each run with its own. `task` and `model`
    are the components' structural settings (name first), as their `key()` gives them.
    """

    task: tuple
    model: tuple
    steps: int
    log_every: int
    tensorboard: bool  # the step also returns histograms: another program

    @property
    def n_logged(self) -> int:
        """How many steps are logged (the last one included), without listing them."""
        every = self.log_every or self.steps
        return -(-self.steps // every) + 1

    @property
    def logged_steps(self) -> np.ndarray:
        """Steps (updates applied so far) at which measurements are taken."""
        every = self.log_every or self.steps
        return np.append(np.arange(0, self.steps, every), self.steps)


@dataclass
class Measurements:
    """What a group's training returns, as numpy arrays with a run axis."""

    steps: np.ndarray  # [K] logged steps
    layer: dict  # name -> [K, R, layers]
    run: dict  # name -> [K, R]
    # [R] first step with a non-finite loss, gradient or update; -1 if none
    diverged_at: np.ndarray
    baseline_loss: float  # probe loss of the best constant prediction (the task's)
    started: float  # when the group started training, seconds since the epoch (UTC)
    seconds: float  # wall time of the group: compile + train + transfer
    # tensorboard=true only: the HISTOGRAM_ARRAYS
    histograms: dict = field(default_factory=dict)
    # [R] where a diverged run's first non-finite value appeared (train/divergence.py)
    diverged_in: list = field(default_factory=list)
    # programs the group compiled and put in the compile cache (0: all were loaded
    # from it or already in the process); None with the cache off
    compiled: int | None = None
