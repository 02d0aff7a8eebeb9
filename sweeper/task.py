"""The learning task: training inputs, target, and the probe inputs that measure it.

Only the question's identity task exists so far: x ~ U(-1, 1), target = x. The estimate
is `output_scale * network output`, as in the question's `estimate0 = 2.0*O2_0`.
"""

import numpy as np

from sweeper.registry import seed_for
from sweeper.schema import TaskConfig

IN_DIM = 1
OUT_DIM = 1
DATA_STREAM = 0xDA7A  # keeps the data seed independent of the layer seeds


def training_inputs(task: TaskConfig, steps: int, seed: int) -> np.ndarray:
    """Inputs of each step of one run, [steps + 1, batch, 1] (+1: the last measurement).

    Drawn with TensorFlow's stateless RNG from the run's own seed, so a run sees the
    same data whether it trains alone or stacked with others.
    """
    from sweeper._tf import tf

    shape = [steps + 1, task.batch_size, IN_DIM]
    seed_pair = [seed_for(seed, DATA_STREAM), 0]
    return tf.random.stateless_uniform(
        shape, seed_pair, minval=-1.0, maxval=1.0
    ).numpy()


def probe_inputs(task: TaskConfig) -> np.ndarray:
    """Fixed, evenly spaced inputs over the input range, [probe_size, 1]."""
    return np.linspace(-1.0, 1.0, task.probe_size, dtype=np.float32)[:, None]


def target(x):
    """What the estimate should equal: the input itself."""
    return x
