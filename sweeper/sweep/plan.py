"""Which runs train as one compiled program, in groups that fit memory, costliest first.

Free of TensorFlow: the launcher plans groups without loading it.
"""

from sweeper.config.options import OPTIMIZERS
from sweeper.config.schema import Config
from sweeper.contract import BINS, HISTOGRAMS, LAYER_METRICS, RUN_METRICS
from sweeper.train.components import model_of, optimizers_of, program_key, task_of


class Sizes:
    """A run's sizes that set a group's memory and cost, from its components."""

    def __init__(self, cfg: Config):
        task = task_of(cfg)
        model = model_of(cfg, task)
        specs = model.param_specs()
        self.key = program_key(cfg, task, model)
        self.layers = len({spec.layer for spec in specs})
        self.params = sum(spec.size for spec in specs)
        self.widest = max(size for spec in specs for size in spec.shape)
        self.batch_size, self.probe_size = cfg.task.batch_size, len(task.probe()[0])
        self.data = task.data_size(cfg.steps)
        # a model that cannot stack its runs (a Keras model pfor cannot vectorize)
        self.max_runs = getattr(model, "max_runs", None)


def bytes_per_run(sizes: Sizes, optimizers: tuple[str, ...]) -> int:
    """Rough float32 footprint of one run in a group: data, logs, weights and slots."""
    key, layers = sizes.key, sizes.layers
    logs = key.n_logged * (layers * len(LAYER_METRICS) + len(RUN_METRICS))
    if key.tensorboard:  # per histogram, BINS counts and the range they cut
        logs += key.n_logged * layers * len(HISTOGRAMS) * (BINS + 2)
    # weights, gradients, clipped gradients, the shared optimizer slots, and each
    # optimizer's new weights and slots; plus the probe's activations (z and h per
    # layer) and one batch's
    slots = [OPTIMIZERS[name].slots for name in optimizers]
    tensors = 3 + max(slots) + sum(1 + n for n in slots)
    probe = 2 * layers * sizes.widest * (sizes.probe_size + sizes.batch_size)
    working = tensors * sizes.params + probe
    return 4 * (sizes.data + logs + working)


def plan(cfgs: list[Config], memory_mb: float, parts: int = 1) -> list[list[int]]:
    """Indices of `cfgs` grouped by program key, each group within `memory_mb`.

    When there are fewer groups than `parts` (worker processes), the largest groups are
    split so every worker gets one. Groups come costliest first (see `seconds`).
    """
    sizes = [Sizes(cfg) for cfg in cfgs]
    by_key: dict = {}
    for index, run in enumerate(sizes):
        by_key.setdefault(run.key, []).append(index)
    groups = []
    for indices in by_key.values():
        optimizers = optimizers_of([cfgs[i] for i in indices])
        per_run = bytes_per_run(sizes[indices[0]], optimizers)
        size = max(1, int(memory_mb * 2**20 // per_run))
        size = min(size, sizes[indices[0]].max_runs or size)
        groups += [indices[i : i + size] for i in range(0, len(indices), size)]
    while groups and len(groups) < parts:
        largest = max(groups, key=len)
        if len(largest) < 2:
            break
        groups.remove(largest)
        half = (len(largest) + 1) // 2
        groups += [largest[:half], largest[half:]]
    # Costliest first: workers take groups in this order, and a long group started
    # last would leave the other workers idle at the end.
    cost = {
        id(group): seconds([cfgs[i] for i in group], sizes[group[0]])
        for group in groups
    }
    ordered = sorted(sorted(groups), key=lambda group: -cost[id(group)])
    return _last_in_halves(ordered, parts)


LAST_HALVED = 32  # a last group of at least this many runs trains in two halves


def _last_in_halves(groups: list[list[int]], parts: int) -> list[list[int]]:
    """The last (cheapest) group as two halves of one program, taken one after the
    other by the first worker free, when other groups train beside it.

    This process writes each group's jobs as it ends (Hydra's bookkeeping, ~10 ms a
    job), and those of the groups that end last only once all training is over; with
    the last group in halves, the first half's jobs are written while the second
    trains, and half as many wait for the end (NOTES.md)."""
    if len(groups) <= parts or len(groups[-1]) < LAST_HALVED:
        return groups
    last = groups[-1]
    half = (len(last) + 1) // 2
    return [*groups[:-1], last[:half], last[half:]]


def seconds(cfgs: list[Config], sizes: Sizes | None = None) -> float:
    """Rough seconds to compile and train a group of `cfgs` on one core.

    A fit to measured compile and train times (NOTES.md, second session): compiling
    grows with the layers and the optimizer state to carry, training with runs x steps
    x parameters. Used only to order groups.
    """
    sizes = sizes or Sizes(cfgs[0])
    slots = [OPTIMIZERS[name].slots for name in optimizers_of(cfgs)]
    compile_s = (0.9 + 0.55 * sizes.layers) * (0.9 + 0.1 * sum(1 + n for n in slots))
    train_s = 3.35e-9 * len(cfgs) * sizes.key.steps * sizes.params
    return compile_s + train_s * (1 + 0.2 * sum(slots))
