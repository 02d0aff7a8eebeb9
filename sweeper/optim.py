"""Clipping and optimizer updates as pure functions of stacked tensors.

Every tensor carries a leading run axis R, and every hyperparameter is a [R] tensor, so
runs with different learning rates or thresholds share one compiled program. The update
rules are Keras' own (keras/src/optimizers/*.py), rewritten functionally because Keras
optimizers hold one scalar learning rate per variable; tests/test_optim.py checks them
against Keras.
"""

from sweeper._tf import tf


def per_run(value: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    """Reshape a [R] hyperparameter so it broadcasts against a [R, ...] tensor."""
    return tf.reshape(value, [-1] + [1] * (like.shape.rank - 1))


def run_norm(tensor: tf.Tensor) -> tf.Tensor:
    """L2 norm of each run's slice of a [R, ...] tensor: shape [R]."""
    axes = list(range(1, tensor.shape.rank))
    return tf.sqrt(tf.reduce_sum(tf.square(tensor), axis=axes))


def clip(name: str, grads: list, threshold: tf.Tensor) -> list:
    """Clip each run's gradients: none, by value, by norm per tensor, by global norm."""
    if name == "none":
        return list(grads)
    if name == "value":
        return [
            tf.clip_by_value(g, -per_run(threshold, g), per_run(threshold, g))
            for g in grads
        ]
    if name == "norm":
        return [g * per_run(_shrink(run_norm(g), threshold), g) for g in grads]
    if name == "global_norm":
        total = tf.sqrt(tf.add_n([tf.square(run_norm(g)) for g in grads]))
        shrink = _shrink(total, threshold)
        return [g * per_run(shrink, g) for g in grads]
    raise ValueError(f"unknown clip {name!r}")


def _shrink(norm: tf.Tensor, threshold: tf.Tensor) -> tf.Tensor:
    """Factor that scales a norm down to the threshold, 1 when already below it."""
    return threshold / tf.maximum(norm, threshold)


def slot_count(name: str) -> int:
    """How many state tensors the optimizer keeps per parameter."""
    return {"sgd": 0, "momentum": 1, "adam": 2, "rmsprop": 1, "adagrad": 1}[name]


def init_slots(name: str, params: list, hp: dict) -> list:
    """Initial optimizer state: one list of slot tensors per parameter."""
    if name == "adagrad":
        return [
            [tf.ones_like(p) * per_run(hp["initial_accumulator"], p)] for p in params
        ]
    return [[tf.zeros_like(p) for _ in range(slot_count(name))] for p in params]


def update(name: str, param, grad, slots: list, hp: dict, step: tf.Tensor):
    """One optimizer step for one stacked parameter; returns (new param, new slots).

    `step` counts updates already applied (Keras' `iterations`), for Adam's bias
    correction.
    """
    lr = per_run(hp["lr"], param)
    eps = per_run(hp["epsilon"], param)
    if name == "sgd":
        return param - lr * grad, []
    if name == "momentum":
        (velocity,) = slots
        velocity = velocity * per_run(hp["momentum"], param) - lr * grad
        return param + velocity, [velocity]
    if name == "adam":
        m, v = slots
        beta_1 = per_run(hp["beta_1"], param)
        beta_2 = per_run(hp["beta_2"], param)
        t = tf.cast(step + 1, param.dtype)
        alpha = lr * tf.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m = m + (grad - m) * (1 - beta_1)
        v = v + (tf.square(grad) - v) * (1 - beta_2)
        return param - m * alpha / (tf.sqrt(v) + eps), [m, v]
    if name == "rmsprop":
        (v,) = slots
        rho = per_run(hp["rho"], param)
        v = rho * v + (1 - rho) * tf.square(grad)
        return param - lr * grad / tf.sqrt(v + eps), [v]
    if name == "adagrad":
        (acc,) = slots
        acc = acc + tf.square(grad)
        return param - lr * grad / tf.sqrt(acc + eps), [acc]
    raise ValueError(f"unknown optimizer {name!r}")
