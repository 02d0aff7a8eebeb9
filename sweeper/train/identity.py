"""`task=identity`, the question's task: x ~ U(-1, 1), target = x.

The estimate is `output_scale * network output`, as in the question's
`estimate0 = 2.0*O2_0`; the loss is the mean squared error over the batch.
TensorFlow is imported inside the functions that need it: the planner reads `key`.
"""

import numpy as np

from sweeper.config.schema import TaskConfig
from sweeper.train.seeds import DATA_STREAM, seed_for


class Identity:
    input_dim = 1
    output_dim = 1

    def __init__(self, cfg: TaskConfig):
        self.cfg = cfg

    def key(self) -> tuple:
        """What makes another program (output_scale is a per-run value instead)."""
        return ("identity", self.cfg.batch_size, self.cfg.probe_size)

    def hyperparams(self) -> dict:
        """This run's per-run values the program reads, by name."""
        return {"output_scale": self.cfg.output_scale}

    def data_size(self, steps: int) -> int:
        """Inputs and targets of every step."""
        return (steps + 1) * self.cfg.batch_size * (self.input_dim + self.output_dim)

    def training_data(self, steps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and targets of each step, [steps + 1, batch, 1] each.

        (+1: the last measurement.) Drawn with TensorFlow's stateless RNG from the
        run's own seed, so a run sees the same data alone or stacked with others.
        """
        from sweeper.train._tf import tf

        shape = [steps + 1, self.cfg.batch_size, self.input_dim]
        seed_pair = [seed_for(seed, DATA_STREAM), 0]
        x = tf.random.stateless_uniform(shape, seed_pair, minval=-1.0, maxval=1.0)
        x = x.numpy()
        return x, x

    def probe(self) -> tuple[np.ndarray, np.ndarray]:
        """Fixed, evenly spaced inputs over the input range and their targets."""
        x = np.linspace(-1.0, 1.0, self.cfg.probe_size, dtype=np.float32)[:, None]
        return x, x

    def baseline_loss(self) -> float:
        """Probe loss of the best constant estimate: the variance of the targets."""
        return float(np.var(self.probe()[1]))

    def predict(self, output, hp: dict):
        """The estimate from the network's output, [R, batch, 1]."""
        from sweeper.train.optim import per_run

        return per_run(hp["output_scale"], output) * output

    def batch(self, data: tuple, t):
        """Step t's inputs and targets, [R, batch, 1] each."""
        inputs, targets = data
        return inputs[t], targets[t]

    def loss(self, estimate, target):
        """Each run's mean squared error over its batch, [R]."""
        from sweeper.train._tf import tf

        return tf.reduce_mean(tf.square(target - estimate), axis=[1, 2])

    def accuracy(self, estimate, target):
        """Regression: no accuracy, NaN for each run."""
        return regression_accuracy(estimate)

    def spread(self, estimate, target):
        """Each run's std of the estimate over its probe rows / that of the target."""
        return regression_spread(estimate, target)


def regression_accuracy(estimate):
    from sweeper.train._tf import tf

    return tf.fill(tf.shape(estimate)[:1], float("nan"))


def regression_spread(estimate, target):
    """Std of each run's estimate over its own rows (and outputs) / the target's.

    Per run, not across the run axis: that would round differently for different
    numbers of stacked runs.
    """
    from sweeper.train._tf import tf

    spread = tf.math.reduce_std(estimate, axis=[1, 2])
    return spread / tf.math.reduce_std(target, axis=[1, 2])
