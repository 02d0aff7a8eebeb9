"""optim.update against Keras' optimizers, optim.clip against hand-computed values."""

import numpy as np
import pytest

import numpy_reference as reference
from sweeper.config.options import CLIP_KINDS, clip_thresholds
from sweeper.train import optim
from sweeper.train._tf import tf  # TensorFlow first, quietly; then Keras on top of it

import keras

NAMES = ("sgd", "momentum", "adam", "rmsprop", "adagrad")
STEPS = 5
# Decay rates exactly representable in float32. Keras forms 1 - beta_2 from the Python
# float (0.001) but beta_2^t from its float32 (1 - 0.999f = 0.00099998713): with
# beta_2 = 0.999 Keras' own step is off by 6e-6 relative (26 ulps), and optim.update is
# the nearer of the two to float64 (see test_update_matches_float64_with_the_defaults).
HP = {
    "lr": 0.05,
    "momentum": 0.875,
    "beta_1": 0.875,
    "beta_2": 1 - 2**-10,
    "rho": 0.875,
    "epsilon": 1e-7,
    "initial_accumulator": 0.125,
}
# A second run's settings, all different, for the per-run [R] hyperparameter tests.
HP_2 = {
    "lr": 0.003,
    "momentum": 0.5,
    "beta_1": 0.75,
    "beta_2": 1 - 2**-7,
    "rho": 0.75,
    "epsilon": 2**-10,
    "initial_accumulator": 0.5,
}
DEFAULTS = {  # conf/optimizer/*.yaml, with a larger lr
    "lr": 0.05,
    "momentum": 0.9,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "rho": 0.9,
    "epsilon": 1e-7,
    "initial_accumulator": 0.1,
}
# Float32 precision: results within this many units in the last place of Keras'.
MAX_ULP = 4


def gradients(seed):
    """STEPS gradients of a [3, 2] kernel, entries 1e-4 to ~10 in size, both signs."""
    rng = np.random.default_rng(seed)
    scale = np.array([[1e-4, 1e-2], [1.0, 3.0], [10.0, 0.5]])
    return (rng.normal(size=(STEPS, 3, 2)) * scale).astype(np.float32)


def initial(seed):
    return np.random.default_rng(100 + seed).normal(size=(3, 2)).astype(np.float32)


def keras_optimizer(name, hp):
    opt = keras.optimizers
    lr = hp["lr"]
    if name == "sgd":
        return opt.SGD(learning_rate=lr)
    if name == "momentum":
        return opt.SGD(learning_rate=lr, momentum=hp["momentum"])
    if name == "adam":
        return opt.Adam(
            learning_rate=lr,
            beta_1=hp["beta_1"],
            beta_2=hp["beta_2"],
            epsilon=hp["epsilon"],
        )
    if name == "rmsprop":
        return opt.RMSprop(learning_rate=lr, rho=hp["rho"], epsilon=hp["epsilon"])
    return opt.Adagrad(
        learning_rate=lr,
        initial_accumulator_value=hp["initial_accumulator"],
        epsilon=hp["epsilon"],
    )


def keras_trajectory(name, hp, seed):
    """The kernel after each of STEPS updates by the real Keras optimizer."""
    variable = keras.Variable(initial(seed))
    optimizer = keras_optimizer(name, hp)
    out = []
    for grad in gradients(seed):
        optimizer.apply([tf.constant(grad)], [variable])
        out.append(np.array(variable.numpy()))
    return np.stack(out)


def sweeper_trajectory(name, hps, seeds):
    """The same with optim.update, one run per (hp, seed): [STEPS, runs, 3, 2]."""
    hp = {key: tf.constant([h[key] for h in hps], tf.float32) for key in HP}
    param = tf.constant(np.stack([initial(s) for s in seeds]))
    grads = np.stack([gradients(s) for s in seeds], axis=1)
    slots = optim.init_slots(name, param, hp)
    out = []
    for t, grad in enumerate(grads):
        param, slots = optim.update(name, param, tf.constant(grad), slots, hp, t)
        out.append(param.numpy())
    return np.stack(out)


@pytest.mark.parametrize("name", NAMES)
def test_update_matches_keras(name):
    ours = sweeper_trajectory(name, [HP], [0])[:, 0]
    np.testing.assert_array_max_ulp(ours, keras_trajectory(name, HP, 0), MAX_ULP)


@pytest.mark.parametrize("name", NAMES)
def test_per_run_hyperparameters_match_each_runs_own_keras_optimizer(name):
    ours = sweeper_trajectory(name, [HP, HP_2], [0, 1])
    for r, hp in enumerate([HP, HP_2]):
        theirs = keras_trajectory(name, hp, r)
        np.testing.assert_array_max_ulp(ours[:, r], theirs, MAX_ULP)
    assert not np.allclose(ours[:, 0], ours[:, 1])


def reference_trajectory(name, hp, seed):
    """The same with the float64 numpy reference, written from the papers."""
    param = initial(seed).astype(np.float64)
    slots = reference.init_slots(name, param, hp)
    out = []
    for t, grad in enumerate(gradients(seed).astype(np.float64)):
        param, slots = reference.update(name, param, grad, slots, hp, t)
        out.append(param)
    return np.stack(out)


@pytest.mark.parametrize("name", NAMES)
def test_numpy_reference_update_matches_keras(name):
    """The engine tests' reference agrees with Keras, to Keras' float32 rounding."""
    for hp, seed in [(HP, 0), (HP_2, 1), (DEFAULTS, 0)]:
        want = keras_trajectory(name, hp, seed)
        got = reference_trajectory(name, hp, seed)
        np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_update_matches_float64_with_the_defaults(name):
    ours = sweeper_trajectory(name, [DEFAULTS], [0])[:, 0]
    want = reference_trajectory(name, DEFAULTS, 0)
    np.testing.assert_allclose(ours, want, rtol=1e-6, atol=1e-7)


# --- clipping -----------------------------------------------------------------------


def clip(name, tensors, threshold):
    """optim.clip of one kind, with one threshold per run, on nested lists -> numpy."""
    grads = [tf.constant(t, tf.float32) for t in tensors]
    per_kind = [clip_thresholds(name, t) for t in threshold]
    kinds = [tf.constant([k[kind] for k in per_kind]) for kind in CLIP_KINDS]
    out = optim.clip(grads, *kinds)
    return [g.numpy() for g in out]


def test_clip_none_is_the_identity():
    grads = [[[3.0, -4.0]], [[1e9]]]
    out = clip("none", grads, [1.0])
    assert len(out) == 2
    for got, want in zip(out, grads):
        np.testing.assert_array_equal(got, want)


def test_an_unused_clip_kind_is_the_identity_on_non_finite_gradients():
    # Its threshold is inf, and a norm of inf or NaN over inf is NaN: a factor of
    # min(1, NaN) would turn a diverging run's inf gradients NaN in a program that
    # holds the kind and leave them inf in one that does not (train/update.py).
    grads = [[[np.inf, -4.0]], [[np.nan]], [[-np.inf, 1.0]]]
    for got, want in zip(clip("none", grads, [1.0]), grads):
        np.testing.assert_array_equal(got, want)
    # a kind in use scales only by its own factor: by value, inf is clipped
    value = clip("value", grads, [2.0])
    np.testing.assert_array_equal(value[0], [[2.0, -2.0]])


def test_clip_value():
    (out,) = clip("value", [[[-6.0, 3.0, 5.0, -4.5]]], [4.5])
    np.testing.assert_array_equal(out, [[-4.5, 3.0, 4.5, -4.5]])


def test_clip_norm_per_tensor():
    # [3, 4] has norm 5: scaled to norm 1 it is [0.6, 0.8]; [0.3, 0.4] (norm 0.5) stays.
    big, small = clip("norm", [[[3.0, 4.0]], [[0.3, 0.4]]], [1.0])
    np.testing.assert_allclose(big, [[0.6, 0.8]], rtol=1e-6)
    np.testing.assert_array_equal(small, np.float32([[0.3, 0.4]]))


def test_clip_global_norm():
    # [3, 4] and [12]: joint norm sqrt(9 + 16 + 144) = 13; threshold 6.5 halves both.
    first, second = clip("global_norm", [[[3.0, 4.0]], [[12.0]]], [6.5])
    np.testing.assert_allclose(first, [[1.5, 2.0]], rtol=1e-6)
    np.testing.assert_allclose(second, [[6.0]], rtol=1e-6)


def test_clip_thresholds_act_per_run():
    runs = [[3.0, 4.0], [3.0, 4.0]]
    (value,) = clip("value", [runs], [1.0, 3.5])
    np.testing.assert_array_equal(value, [[1.0, 1.0], [3.0, 3.5]])
    (norm,) = clip("norm", [runs], [1.0, 10.0])
    np.testing.assert_allclose(norm, [[0.6, 0.8], [3.0, 4.0]], rtol=1e-6)
    # run 0: joint norm 13, threshold 6.5 -> halved; run 1: joint norm 10, threshold 5
    # -> halved; the same tensors clipped with run 0's threshold alone would differ.
    grads = [[[3.0, 4.0], [6.0, 8.0]], [[12.0], [0.0]]]
    first, second = clip("global_norm", grads, [6.5, 5.0])
    np.testing.assert_allclose(first, [[1.5, 2.0], [3.0, 4.0]], rtol=1e-6)
    np.testing.assert_allclose(second, [[6.0], [0.0]], rtol=1e-6)


@pytest.mark.parametrize("name", ["value", "norm", "global_norm"])
def test_clip_matches_tensorflow_and_the_numpy_reference(name):
    rng = np.random.default_rng(7)
    grads = [rng.normal(size=(2, 3, 4)) * 5, rng.normal(size=(2, 4)) * 5]
    thresholds = [0.5, 30.0]  # run 0 is clipped, run 1 mostly not
    ours = clip(name, grads, thresholds)
    for r, thr in enumerate(thresholds):
        run = [tf.constant(g[r], tf.float32) for g in grads]
        if name == "value":
            theirs = [tf.clip_by_value(g, -thr, thr) for g in run]
        elif name == "norm":
            theirs = [tf.clip_by_norm(g, thr) for g in run]
        else:
            theirs, _ = tf.clip_by_global_norm(run, thr)
        ref = reference.clip(name, [g[r] for g in grads], thr)
        for got, tf_, np_ in zip(ours, theirs, ref):
            np.testing.assert_allclose(got[r], tf_.numpy(), rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(got[r], np_, rtol=1e-6, atol=1e-6)
