"""Clipping and optimizer updates as pure functions of stacked tensors.

Every tensor carries a leading run axis R, and every hyperparameter is a [R] tensor, so
runs with different learning rates or thresholds share one compiled program. The update
rules are Keras' own (keras/src/optimizers/*.py), rewritten functionally because Keras
optimizers hold one scalar learning rate per variable; tests/test_optim.py checks them
against Keras.
"""

from sweeper.config.options import CLIP_KINDS, OPTIMIZERS
from sweeper.train._tf import tf


def per_run(value: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    """Reshape a [R] hyperparameter so it broadcasts against a [R, ...] tensor."""
    return tf.reshape(value, [-1] + [1] * (like.shape.rank - 1))


def run_norm(tensor: tf.Tensor) -> tf.Tensor:
    """L2 norm of each run's slice of a [R, ...] tensor: shape [R]."""
    axes = list(range(1, tensor.shape.rank))
    return tf.sqrt(tf.reduce_sum(tf.square(tensor), axis=axes))


def clip(grads: list, value, norm, global_norm, kinds=CLIP_KINDS) -> list:
    """Clip each run's gradients by value, by norm per tensor and by global norm.

    The thresholds are [R] tensors, infinite for a kind a run does not use: an infinite
    threshold is exactly the identity (see `_shrink`). `kinds`: the kinds any run uses;
    the others are left out of the program, which changes no run's numbers.
    """
    grads = clip_each(grads, value, norm, kinds)
    if "global_norm" not in kinds:
        return grads
    flat = tf.concat([tf.reshape(g, [tf.shape(g)[0], -1]) for g in grads], axis=1)
    shrink = global_shrink(flat, global_norm)
    return [g * per_run(shrink, g) for g in grads]


def clip_each(grads: list, value, norm, kinds=CLIP_KINDS) -> list:
    """The clips that act on each tensor alone: by value, then by the tensor's norm."""
    if "value" in kinds:
        grads = [
            tf.clip_by_value(g, -per_run(value, g), per_run(value, g)) for g in grads
        ]
    if "norm" in kinds:
        grads = [g * per_run(_shrink(run_norm(g), norm), g) for g in grads]
    return grads


def global_shrink(flat: tf.Tensor, threshold: tf.Tensor) -> tf.Tensor:
    """Each run's global-norm factor ([R]) for its gradients as one [R, P] vector:
    one reduction over all of them, where a sum per tensor was one kernel each."""
    return _shrink(tf.sqrt(tf.reduce_sum(tf.square(flat), axis=1)), threshold)


def _shrink(norm: tf.Tensor, threshold: tf.Tensor) -> tf.Tensor:
    """Factor that scales a norm down to the threshold, exactly 1 when below it, and
    exactly 1 for an infinite threshold even when the norm is not finite (inf / inf
    is NaN), so a clip kind a run does not use never touches its gradients."""
    return tf.where(tf.math.is_inf(threshold), 1.0, tf.minimum(1.0, threshold / norm))


def slot_count(name: str) -> int:
    """How many state tensors the optimizer keeps per parameter."""
    return OPTIMIZERS[name].slots


def init_slots(name: str, param: tf.Tensor, hp: dict) -> list:
    """Initial optimizer state of one stacked parameter: its slot tensors."""
    if name == "adagrad":
        return [tf.ones_like(param) * per_run(hp["initial_accumulator"], param)]
    return [tf.zeros_like(param) for _ in range(slot_count(name))]


# Runs of different optimizers share a program: it computes the update of every
# optimizer among its runs and keeps each run's own with tf.where. Each optimizer keeps
# its state in the first slot_count(name) of the shared slots (Adam's m and v, the
# others' one tensor), so the program carries as many slots as its largest optimizer.
# A select is exact and the update ops are the same ops, so each run's numbers are
# bit-identical to those of a program of its optimizer alone (tests/test_engine.py).


def mixed_init_slots(names: tuple, which: tf.Tensor, param: tf.Tensor, hp: dict):
    """Initial shared state of runs whose optimizer is `names[which[r]]`."""
    if len(names) == 1:
        return init_slots(names[0], param, hp)
    slots = [tf.zeros_like(param) for _ in range(max(map(slot_count, names)))]
    for index, name in enumerate(names):
        mine = per_run(tf.equal(which, index), param)
        for j, initial in enumerate(init_slots(name, param, hp)):
            slots[j] = tf.where(mine, initial, slots[j])
    return slots


def mixed_update(names: tuple, which, param, grad, slots: list, hp: dict, step):
    """One step of every run with its own optimizer, `names[which[r]]` for run r."""
    if len(names) == 1:  # the plain program, without selects
        return update(names[0], param, grad, slots, hp, step)
    new_param, new_slots = param, list(slots)
    for index, name in enumerate(names):
        mine = per_run(tf.equal(which, index), param)
        own = slots[: slot_count(name)]
        param_i, slots_i = update(name, param, grad, own, hp, step)
        new_param = tf.where(mine, param_i, new_param)
        for j, slot in enumerate(slots_i):
            new_slots[j] = tf.where(mine, slot, new_slots[j])
    return new_param, new_slots


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
