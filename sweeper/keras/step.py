"""What `GradientFlow` measures inside `model.fit`: sweeper's per-layer statistics of a
logged step, computed in the train step and kept in variables until the callback
reads them.

A logged step is measured just before Keras' own train step runs on the same batch:
a second forward and backward pass, stateless (it moves no weight, no normalization
statistic, no metric), with the measured layers tapped for z and dL/dz. It sees the
weights the step starts from, as the sweep measures a step; after the step, the
kernels' change gives the update ratio. Only logged steps pay for it. The same
functions as the sweep's (train/measure.py) compute every figure, on a run axis of 1.
"""

import keras
import numpy as np

from sweeper.contract import KERNEL, LAYER_METRICS, RUN_METRICS
from sweeper.train import measure, optim
from sweeper.train._tf import tf
from sweeper.train.keras_taps import Taps
from sweeper.train.supervised import PoolTask


class MeasuredStep:
    """A model's measured train step: the statistics of its logged steps, in
    variables (`values`, of step `step`), read by the callback."""

    def __init__(self, model, probe: tuple):
        self.model = model
        self.taps = Taps(model, type(model).__name__)
        if not self.taps.layers:
            raise ValueError(
                f"GradientFlow measures Dense and Conv layers, but the model "
                f"{model.name!r} has none."
            )
        self.specs = self.taps.param_specs()
        x_probe, y_probe = (np.asarray(part) for part in probe)
        self.classification = _classifies(model, y_probe)
        labels = np.asarray(_labels(y_probe)) if self.classification else y_probe
        first, found = x_probe[:1].astype(np.float32), {}
        taps = self.taps.traced(lambda: found.update(out=model(first)))
        self.units = [int(tap[1].shape[1]) for tap in taps]
        outputs = int(found["out"].shape[-1])
        kind = "classification" if self.classification else "regression"
        data = (x_probe, labels, x_probe, labels, kind)
        # the probe as a sweep's task holds it: the same accuracy, spread and baseline
        self.task = PoolTask("fit", (), data, len(x_probe), outputs)
        self.probe = tf.constant(x_probe, tf.float32), tf.constant(y_probe)
        self.softmax_out = (
            getattr(self.taps.layers[-1].activation, "__name__", "") == "softmax"
        )
        layers = len(self.taps.layers)
        self.values = {n: tf.Variable(tf.zeros([layers])) for n in LAYER_METRICS}
        self.values.update({n: tf.Variable(0.0) for n in RUN_METRICS})
        self.step = tf.Variable(tf.constant(-1, tf.int64))  # the step `values` are of
        self.start = tf.Variable(tf.constant(0, tf.int64))  # iterations at fit's start
        kernels = measure.by_role(model.trainable_variables, self.specs, KERNEL)
        self.before = [tf.Variable(tf.convert_to_tensor(k)) for k in kernels]
        self.initial = [tf.Variable(tf.convert_to_tensor(k)) for k in kernels]

    def begin(self) -> None:
        """At fit's start: steps count from here, drift from these kernels."""
        self.start.assign(tf.cast(self.model.optimizer.iterations, tf.int64))
        self.step.assign(-1)
        kernels = measure.by_role(self.model.trainable_variables, self.specs, KERNEL)
        for kept, kernel in zip(self.initial, kernels):
            kept.assign(tf.convert_to_tensor(kernel))

    def train_step(self, original, every: int):
        """Keras' train step `original` with every `every`-th step measured."""

        def step(data):
            x, y, weight = keras.utils.unpack_x_y_sample_weight(data)
            if not tf.is_tensor(x) and not isinstance(x, np.ndarray):
                raise ValueError(
                    "GradientFlow measures a model of one input tensor, but fit "
                    f"passed a {type(x).__name__} of inputs."
                )
            done = tf.cast(self.model.optimizer.iterations, tf.int64) - self.start
            due = tf.equal(done % every, 0)
            tf.cond(due, lambda: self._keep(x, y, weight, done), lambda: False)
            logs = original(data)
            tf.cond(due, self._keep_update, lambda: False)
            return logs

        return step

    def final(self, steps: int) -> None:
        """The last row: the trained weights, measured on the probe as the batch; no
        update follows them (update ratio NaN)."""
        self._keep(*self.probe, None, tf.constant(steps, tf.int64))
        self.values["update_ratio"].assign(tf.fill([len(self.before)], float("nan")))

    def row(self) -> tuple[int, dict]:
        """The kept step and its values, as numbers."""
        return int(self.step.numpy()), {n: v.numpy() for n, v in self.values.items()}

    def _keep(self, x, y, weight, done):
        stats = self.measured(x, y, weight)
        for name, value in stats.items():
            self.values[name].assign(value)
        self.step.assign(done)
        kernels = measure.by_role(self.model.trainable_variables, self.specs, KERNEL)
        for kept, kernel in zip(self.before, kernels):
            kept.assign(tf.convert_to_tensor(kernel))
        return True

    def _keep_update(self):
        kernels = measure.by_role(self.model.trainable_variables, self.specs, KERNEL)
        ratios = [
            optim.run_norm(tf.convert_to_tensor(new)[None] - old[None])
            / optim.run_norm(old[None])
            for new, old in zip(kernels, self.before)
        ]
        self.values["update_ratio"].assign(tf.concat(ratios, axis=0))
        return True

    def measured(self, x, y, weight) -> dict:
        """The statistics of a step on batch (x, y) from the model's weights now
        (its update ratio 0: `_keep_update` fills it in), [layers] or scalars."""
        model = self.model
        x = tf.cast(x, tf.float32)
        params = [
            tf.identity(tf.convert_to_tensor(v)) for v in model.trainable_variables
        ]
        signal = [tf.zeros([tf.shape(x)[0], units]) for units in self.units]
        out = {}

        def call():
            with keras.StatelessScope(
                state_mapping=self._mapping(params), collect_losses=True
            ):
                out["y_pred"] = model(x, **self.taps.mode(True))
                out["loss"] = model.compute_loss(
                    x=x, y=y, y_pred=out["y_pred"], sample_weight=weight
                )

        with tf.GradientTape() as tape:
            tape.watch(params + signal)
            taps = self.taps.traced(call, signal)
        found = tape.gradient(out["loss"], params + signal)
        grads, deltas = found[: len(params)], found[len(params) :]
        params, grads = [p[None] for p in params], [g[None] for g in grads]
        clipped = optim.clip(grads, *self._thresholds())
        stats = measure.gradient_stats(self.specs, params, grads, clipped, params)
        kernels = measure.by_role(params, self.specs, KERNEL)
        stats["drift"] = measure.kernel_drift(kernels, [k[None] for k in self.initial])
        inputs = [tap[3][None] if tap[3] is not None else None for tap in taps]
        stats.update(measure.per_example_stats([d[None] for d in deltas], inputs))
        stats["loss"] = tf.reshape(out["loss"], [1])
        stats["global_grad_norm"] = measure.global_norm(grads)
        stats["global_grad_norm_clipped"] = measure.global_norm(clipped)
        stats["accuracy"] = self.task.accuracy(
            self._logits(out["y_pred"]), self._targets(y)
        )
        stats.update(self._probe(params))
        return {name: value[0] for name, value in stats.items()}

    def _probe(self, params) -> dict:
        """Probe figures: loss, accuracy and spread of the estimate, each layer's
        activation RMS and dead units, with the weights `params` ([1, ...])."""
        x, y = self.probe
        found = {}

        def call():
            mapping = self._mapping([p[0] for p in params])
            with keras.StatelessScope(state_mapping=mapping):
                found["out"] = self.model(x, **self.taps.mode(False))

        taps = self.taps.traced(call)
        out = found["out"]
        zs = [tap[1][None] for tap in taps]
        hs = [tap[2][None] for tap in taps]
        if hs[-1].shape[-1] == out.shape[-1]:  # a final layer's output is the model's
            hs[-1] = tf.reshape(out, [1, tf.shape(out)[0], -1])
        logits, targets = self._logits(out), self._targets(y)
        stats = {
            "probe_loss": tf.reshape(self._data_loss(y, out), [1]),
            "probe_accuracy": self.task.accuracy(logits, targets),
            "out_spread": self.task.spread(logits, targets),
        }
        stats.update(measure.probe_stats(zs, hs, self.taps.relu_like))
        return stats

    def _mapping(self, params) -> list:
        model = self.model
        mapping = list(zip(model.trainable_variables, params))
        return mapping + [
            (v, tf.convert_to_tensor(v)) for v in model.non_trainable_variables
        ]

    def _thresholds(self) -> tuple:
        """The optimizer's clip thresholds (Keras' clipvalue, clipnorm,
        global_clipnorm), infinite where unset, as [1] tensors."""
        optimizer = self.model.optimizer
        names = ("clipvalue", "clipnorm", "global_clipnorm")
        values = [getattr(optimizer, name, None) for name in names]
        return tuple(
            tf.constant([float("inf") if v is None else float(v)]) for v in values
        )

    def _logits(self, out):
        """The output as logits [1, batch, outputs] (a softmax output's log)."""
        out = tf.cast(out, tf.float32)[None]
        if self.classification and self.softmax_out:
            return tf.math.log(out)
        return out

    def _targets(self, y):
        y = _labels(y) if self.classification else tf.cast(y, tf.float32)
        return tf.convert_to_tensor(y)[None]

    def _data_loss(self, y, out):
        """The compiled loss of the outputs alone (no regularization terms), as the
        sweep's probe loss is the task's loss alone."""
        loss = self.model.loss
        if isinstance(loss, str):
            loss = keras.losses.get(loss)
        if not callable(loss):
            return tf.constant(float("nan"))
        return tf.reduce_mean(tf.cast(loss(y, out), tf.float32))


def _classifies(model, y: np.ndarray) -> bool:
    """Whether the model classifies: integer targets, or a cross-entropy loss."""
    name = model.loss if isinstance(model.loss, str) else type(model.loss).__name__
    crossentropy = "crossentropy" in str(getattr(model.loss, "__name__", name)).lower()
    return np.issubdtype(y.dtype, np.integer) or crossentropy


def _labels(y):
    """Class indices [batch] from integer labels or one-hot rows."""
    if len(y.shape) == 2 and y.shape[-1] > 1:  # one-hot
        return tf.argmax(y, axis=-1, output_type=tf.int32)
    return tf.reshape(tf.cast(y, tf.int32), [-1])
