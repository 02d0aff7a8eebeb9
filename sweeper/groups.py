"""Which runs can train as one compiled program, and what such a group returns.

Free of TensorFlow: the launcher plans groups, and receives their measurements from
worker processes, without loading it.
"""

from dataclasses import dataclass, field

import numpy as np

from sweeper import task, tensorboard
from sweeper.files import LAYER_METRICS, RUN_METRICS
from sweeper.schema import Config


# State tensors each optimizer keeps per parameter (its "slots"), e.g. Adam's m and v.
OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "adam": 2, "rmsprop": 1, "adagrad": 1}


@dataclass(frozen=True)
class Shape:
    """What the runs of one compiled program share; the rest are per-run tensors.

    Optimizers may differ: the program steps each run with its own (optim.mixed_update).
    """

    sizes: tuple[int, ...]  # units from input to output, e.g. (1, 16, 16, 1)
    activation: str
    steps: int
    log_every: int
    batch_size: int
    probe_size: int
    tensorboard: bool  # the step also returns histograms: another program

    @property
    def logged_steps(self) -> np.ndarray:
        """Steps (updates applied so far) at which measurements are taken."""
        every = self.log_every or self.steps
        return np.append(np.arange(0, self.steps, every), self.steps)


def shape_of(cfg: Config) -> Shape:
    """The compiled-program key of a run."""
    hidden = (cfg.model.width,) * (cfg.depth - 1)
    return Shape(
        sizes=(task.IN_DIM, *hidden, task.OUT_DIM),
        activation=cfg.model.activation,
        steps=cfg.steps,
        log_every=cfg.log_every,
        batch_size=cfg.task.batch_size,
        probe_size=cfg.task.probe_size,
        tensorboard=cfg.tensorboard,
    )


def optimizers_of(cfgs: list[Config]) -> tuple[str, ...]:
    """The optimizers among `cfgs`, in a fixed order: part of their program's key."""
    names = {cfg.optimizer.name for cfg in cfgs}
    return tuple(name for name in OPTIMIZER_SLOTS if name in names)


@dataclass
class Measurements:
    """What a group's training returns, as numpy arrays with a run axis."""

    steps: np.ndarray  # [K] logged steps
    layer: dict  # name -> [K, R, layers]
    run: dict  # name -> [K, R]
    # [R] first step with a non-finite loss, gradient or update; -1 if none
    diverged_at: np.ndarray
    seconds: float  # wall time of the group: compile + train + transfer
    # tensorboard=true only: `<name>_counts` [K, R, layers, BINS] and `<name>_range`
    # [K, R, layers, 2] per name of tensorboard.HISTOGRAMS
    histograms: dict = field(default_factory=dict)


def bytes_per_run(shape: Shape, optimizers: tuple[str, ...]) -> int:
    """Rough float32 footprint of one run in a group: data, logs, weights and slots."""
    layers = len(shape.sizes) - 1
    params = _param_count(shape)
    widest = max(shape.sizes)
    inputs = (shape.steps + 1) * shape.batch_size * task.IN_DIM
    logs = len(shape.logged_steps) * (layers * len(LAYER_METRICS) + len(RUN_METRICS))
    if shape.tensorboard:  # per histogram, BINS counts and the range they cut
        per_step = layers * len(tensorboard.HISTOGRAMS) * (tensorboard.BINS + 2)
        logs += len(shape.logged_steps) * per_step
    # weights, gradients, clipped gradients, the shared optimizer slots, and each
    # optimizer's new weights and slots; plus the probe's activations (z and h per
    # layer) and one batch's
    slots = [OPTIMIZER_SLOTS[name] for name in optimizers]
    tensors = 3 + max(slots) + sum(1 + n for n in slots)
    probe = 2 * layers * widest * (shape.probe_size + shape.batch_size)
    working = tensors * params + probe
    return 4 * (inputs + logs + working)


def plan(cfgs: list[Config], memory_mb: float, parts: int = 1) -> list[list[int]]:
    """Indices of `cfgs` grouped by shape, each group within `memory_mb`.

    When there are fewer groups than `parts` (worker processes), the largest groups are
    split so every worker gets one. Groups come costliest first (see `seconds`).
    """
    by_shape: dict = {}
    for index, cfg in enumerate(cfgs):
        by_shape.setdefault(shape_of(cfg), []).append(index)
    groups = []
    for shape, indices in by_shape.items():
        optimizers = optimizers_of([cfgs[i] for i in indices])
        size = max(1, int(memory_mb * 2**20 // bytes_per_run(shape, optimizers)))
        groups += [indices[i : i + size] for i in range(0, len(indices), size)]
    while len(groups) < parts:
        largest = max(groups, key=len)
        if len(largest) < 2:
            break
        groups.remove(largest)
        half = (len(largest) + 1) // 2
        groups += [largest[:half], largest[half:]]
    # Costliest first: workers take groups in this order, and a long group started
    # last would leave the other workers idle at the end. (256-run grid, 8 groups on
    # 2 workers, before the flat optimizer update: its measured group times ended
    # after 39 s in index order, 34 s so.)
    cost = {id(group): seconds([cfgs[i] for i in group]) for group in groups}
    return sorted(sorted(groups), key=lambda group: -cost[id(group)])


def seconds(cfgs: list[Config]) -> float:
    """Rough seconds to compile and train a group of `cfgs` on one core of this CPU.

    Fitted to measurements on 2 cores, TF 2.21, width 16, 32 runs of 10,000 steps: XLA
    compile takes ~2.0 s at depth 2 and ~4.2 s at depth 6 with SGD, ~5.1 s with Adam
    (state to carry and update), ~5.5 s with both in one program; training takes ~1.2 s
    at depth 6 with SGD, ~1.7 s with Adam. Used only to order groups; since the program
    holds one copy of the step, compiling takes ~25% less, in the same order.
    """
    shape = shape_of(cfgs[0])
    layers = len(shape.sizes) - 1
    slots = [OPTIMIZER_SLOTS[name] for name in optimizers_of(cfgs)]
    compile_s = (0.9 + 0.55 * layers) * (0.9 + 0.1 * sum(1 + n for n in slots))
    train_s = 3.35e-9 * len(cfgs) * shape.steps * _param_count(shape)
    return compile_s + train_s * (1 + 0.2 * sum(slots))


def _param_count(shape: Shape) -> int:
    """Weights and biases of one run."""
    return sum((a + 1) * b for a, b in zip(shape.sizes[:-1], shape.sizes[1:]))
