"""`task=gaussian`: x ~ N(0, I); targets from a fixed random teacher net, or pure noise.

`task.targets=teacher` (learnable): y = a seeded two-layer tanh net of x, standardized
over the pool. `task.targets=random`: y ~ N(0, 1) drawn independently of x, nothing to
learn: the setup of the signal-propagation papers, which study a net at
initialization. Inputs and targets come from `task.teacher_seed`; a run's seed picks
its batches from the pool (sampling with replacement).
"""

import functools

import numpy as np

from sweeper.config.schema import TaskConfig
from sweeper.train.supervised import PoolTask

TEACHER_WIDTH = 64  # hidden units of the teacher net
DEFAULTS = {
    "input_dim": 256,
    "output_dim": 1,
    "targets": "teacher",
    "teacher_seed": 0,
    "train_size": 8192,
}


def settings(cfg: TaskConfig) -> dict:
    """The gaussian fields of a task config, unset ones at their defaults."""
    return {
        k: v if (v := getattr(cfg, k)) is not None else d for k, d in DEFAULTS.items()
    }


@functools.cache
def pool(input_dim, output_dim, targets, teacher_seed, train_size, probe_size):
    """Training pool and probe set, float32; cached: every run shares the arrays."""
    rng = np.random.default_rng([teacher_seed, 0x6A55])
    x = rng.standard_normal((train_size + probe_size, input_dim))
    if targets == "random":
        y = rng.standard_normal((len(x), output_dim))
    else:
        w1 = rng.standard_normal((input_dim, TEACHER_WIDTH)) / np.sqrt(input_dim)
        w2 = rng.standard_normal((TEACHER_WIDTH, output_dim)) / np.sqrt(TEACHER_WIDTH)
        y = np.tanh(x @ w1) @ w2
        y = (y - y[:train_size].mean(0)) / y[:train_size].std(0)
    arrays = [x[:train_size], y[:train_size], x[train_size:], y[train_size:]]
    arrays = [a.astype(np.float32) for a in arrays]
    for a in arrays:
        a.flags.writeable = False
    return arrays


def gaussian(cfg: TaskConfig) -> PoolTask:
    values = settings(cfg)
    arrays = pool(*values.values(), cfg.probe_size)
    key = (*values.values(), cfg.probe_size)
    outputs = values["output_dim"]
    return PoolTask("gaussian", key, (*arrays, "regression"), cfg.batch_size, outputs)
