"""Tasks on a fixed set of examples: batches drawn from a training pool, the probe a
held-out set. Regression (mean squared error) or classification (softmax
cross-entropy); `gaussian` and the data-set tasks build on this.

The pool is passed to the program once and shared by every run of the task; each run
brings only its seeded batch indices. TensorFlow is imported inside the functions that
need it: the planner reads `key`, the dimensions and `data_size`.
"""

import numpy as np

from sweeper.train.identity import regression_accuracy, regression_spread
from sweeper.train.seeds import DATA_STREAM, seed_for


class PoolTask:
    """x_train/y_train to train on, x_test/y_test as the probe; `kind` says which loss.

    Regression targets are float32 [N, outputs]; classification targets int32 [N]
    class indices, the network's output their logits.
    """

    def __init__(self, name: str, key: tuple, data, batch_size: int, output_dim: int):
        """`data`: x_train, y_train, x_test, y_test, kind; `output_dim`: the network's
        outputs (targets per example, or classes)."""
        self.name, self._key, self.batch_size = name, key, batch_size
        self.x_train, self.y_train, self.x_test, self.y_test, self.kind = data
        self.classification = self.kind == "classification"
        self.input_dim, self.output_dim = self.x_train.shape[1], output_dim

    def key(self) -> tuple:
        """Everything that sets the pool (it is one tensor of the program)."""
        return (self.name, *self._key, self.batch_size)

    def hyperparams(self) -> dict:
        return {}

    def data_size(self, steps: int) -> int:
        """Values a run's data holds: its batch indices and (shared) the pool."""
        pool = self.x_train.size + self.y_train.size
        return (steps + 1) * self.batch_size + pool

    def training_data(self, steps: int, seed: int) -> tuple:
        """The run's batches as indices into the pool, [steps + 1, batch], drawn with
        replacement from the run's data stream; the pool arrays themselves."""
        rng = np.random.default_rng(seed_for(seed, DATA_STREAM))
        rows = len(self.x_train)
        indices = rng.integers(0, rows, (steps + 1, self.batch_size), dtype=np.int32)
        return indices, self.x_train, self.y_train

    def batch(self, data: tuple, t):
        """Step t's inputs [R, batch, in] and targets, gathered from the pool."""
        from sweeper.train._tf import tf

        indices, x, y = data
        rows = indices[t]  # [R, batch]
        return tf.gather(x, rows), tf.gather(y, rows)

    def probe(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x_test, self.y_test

    def baseline_loss(self) -> float:
        """Probe loss of the best constant prediction: the targets' variance (per
        output, averaged), or the entropy of the probe's class shares."""
        if self.classification:
            shares = np.bincount(self.y_test, minlength=self.output_dim) / len(
                self.y_test
            )
            shares = shares[shares > 0]
            return float(-(shares * np.log(shares)).sum())
        return float(np.var(self.y_test, axis=0).mean())

    def predict(self, output, hp: dict):
        """The network's output itself: the estimate, or the class logits."""
        return output

    def loss(self, prediction, target):
        """Each run's mean over the batch (and outputs) of the examples' losses."""
        from sweeper.train._tf import tf

        if self.classification:
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=target, logits=prediction
            )
            return tf.reduce_mean(losses, axis=1)
        return tf.reduce_mean(tf.square(target - prediction), axis=[1, 2])

    def accuracy(self, prediction, target):
        """Each run's share of examples whose largest logit is their class."""
        from sweeper.train._tf import tf

        if not self.classification:
            return regression_accuracy(prediction)
        right = tf.equal(tf.argmax(prediction, axis=2, output_type=tf.int32), target)
        return tf.reduce_mean(tf.cast(right, tf.float32), axis=1)

    def spread(self, prediction, target):
        """Regression: the estimate's std over the probe / the target's. Classification:
        how much the predicted class probabilities vary over the probe, against how much
        the one-hot targets do; 0 when every example gets the same prediction."""
        from sweeper.train._tf import tf

        if not self.classification:
            return regression_spread(prediction, target)
        probs = tf.nn.softmax(prediction, axis=2)
        onehot = tf.one_hot(target, self.output_dim)
        moves = tf.reduce_mean(tf.math.reduce_std(probs, axis=1), axis=1)
        return moves / tf.reduce_mean(tf.math.reduce_std(onehot, axis=1), axis=1)
