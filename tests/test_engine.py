"""The engine's numbers against an independent numpy reference and against theory.

Every run goes through the public `engine.train`. The reference (numpy_reference.py)
gets the same initial weights and inputs and simulates the same clip and optimizer step
by step, in float64. Each compiled shape costs seconds of XLA compile, so the runs of a
shape are trained once per module and several checks read the same stack.
"""

import dataclasses
import math

import numpy as np
import pytest

from numpy_reference import ACTIVATIONS, simulate
from sweeper.train import engine
from sweeper.train._tf import tf
from sweeper.train.activations import OPS
from sweeper.train.components import program_key
from sweeper.train.identity import Identity
from sweeper.train.mlp import MLP
from sweeper.config.schema import (
    ClipConfig,
    Config,
    InitConfig,
    ModelConfig,
    OptimizerConfig,
    TaskConfig,
)

# Engine (float32) vs reference (float64): |engine - reference| must be within
#   RTOL * |reference| + TWIN * (how far the same reference run in float32 strays),
# the latter per metric and layer, its largest value over the logged steps.
# A float32 op rounds to 2^-24 = 6e-8; through a few layers and steps that sums to
# ~1e-6, hence RTOL = 1e-5. Where the math is ill-conditioned plain float32 can do no
# better, and the float32 twin measures by how much, run by run: the residual x - s out
# cancels when the net nears the target (the loss and every gradient inherit ~1e-5);
# |w_new - w| rounds to half an ulp of w (2^-24 |w|: a small update_ratio is off by
# ~1e-7); a collapsed output's spread (2e-9 in the origin net) is below the resolution
# of the float32 output itself (both float32 runs read ~1e-7). The engine rounds in
# another order than the twin, and either can be the luckier one at a given entry
# (measured: the engine strays up to 14x more, and up to 8x less): TWIN = 30.
RTOL = 1e-5
TWIN = 30.0
EXACT = ("grad_zero_frac", "dead_frac")  # counts of exact zeros / never-active units
# Stacked vs solo: the same float32 math, compiled for another stack size, may round an
# op differently. Allowed: STACK_RTOL * |solo| + TWIN * the run's float32 stray (above).
STACK_RTOL = 1e-6


def origin(seed=0, lr=1e-3):
    """The question's net and settings (conf/config.yaml), 4 steps logged every step."""
    return Config(
        depth=3,
        model=ModelConfig(width=16, activation="relu"),
        init=InitConfig(name="normal", std=1e-3, bias_like_weights=True),
        optimizer=OptimizerConfig(name="sgd", lr=lr),
        clip=ClipConfig(name="value", threshold=4.5),
        task=TaskConfig(batch_size=1, output_scale=2.0),
        steps=4,
        log_every=1,
        seed=seed,
    )


def wide(activation, init, optimizer, clip, seed, lr, depth):
    """A 1-256-...-256-1 net, one input per batch, a 64-input probe, 3 steps."""
    return Config(
        depth=depth,
        model=ModelConfig(width=256, activation=activation),
        init=init,
        optimizer=OptimizerConfig(name=optimizer, lr=lr),
        clip=clip,
        task=TaskConfig(batch_size=1, probe_size=64),
        steps=3,
        log_every=1,
        seed=seed,
    )


def he_relu(seed, lr):
    init = InitConfig(name="he_normal", gain=1.0, bias=0.0)
    return wide("relu", init, "adagrad", ClipConfig("value", 0.05), seed, lr, depth=6)


def xavier_tanh(seed, lr):
    init = InitConfig(name="xavier", gain=1.0, bias=0.0)
    return wide("tanh", init, "rmsprop", ClipConfig("norm", 1.0), seed, lr, depth=4)


def gelu(seed, lr, gain=1.5):
    """A 1-12-12-1 GELU net, 8 inputs a batch, 10 steps logged every 3."""
    return Config(
        depth=3,
        model=ModelConfig(width=12, activation="gelu"),
        init=InitConfig(name="glorot_normal", gain=gain, bias=0.05),
        optimizer=OptimizerConfig(name="momentum", lr=lr),
        clip=ClipConfig(name="none"),
        task=TaskConfig(batch_size=8, output_scale=1.0),
        steps=10,
        log_every=3,
        seed=seed,
    )


SIGMOID = Config(
    depth=2,
    model=ModelConfig(width=5, activation="sigmoid"),
    init=InitConfig(name="uniform", limit=1.0),
    optimizer=OptimizerConfig(name="adam", lr=1e-2),
    clip=ClipConfig(name="global_norm", threshold=0.5),
    task=TaskConfig(batch_size=4),
    steps=4,
    log_every=1,
    seed=3,
)
ORIGIN_RUNS = [origin(s, lr=(1e-3, 0.1)[s % 2]) for s in range(64)]
HE_RUNS = [he_relu(s, lr=(1e-2, 3e-2)[s % 2]) for s in range(32)]
TANH_RUNS = [xavier_tanh(s, lr=(1e-4, 3e-4)[s % 2]) for s in range(32)]
GELU_RUNS = [gelu(0, 1e-2), gelu(1, 3e-2), gelu(2, 5e-3)]
# lr 1e6 on 3x Glorot weights: after one update the output is ~1e20, its square inf.
DIVERGING = gelu(3, 1e6, gain=3.0)


def expected_steps(cfg):
    """Logged steps as documented: every log_every-th step, and the last."""
    every = cfg.log_every or cfg.steps
    return sorted(set(range(0, cfg.steps, every)) | {cfg.steps})


_REFERENCES: dict = {}


def initial_weights(cfg, sizes):
    """(kernel, bias) of each layer, as the engine initializes an MLP of `sizes`."""
    mlp = MLP(tuple(sizes), cfg.model.activation)
    flat = mlp.initial_params(cfg.init, cfg.seed)
    return list(zip(flat[0::2], flat[1::2]))


def reference(cfg, dtype=np.float64):
    """One run's reference trajectory, from the engine's initial weights and data."""
    key = (repr(cfg), dtype)
    if key in _REFERENCES:
        return _REFERENCES[key]
    sizes = [1, *[cfg.model.width] * (cfg.depth - 1), 1]
    _REFERENCES[key] = simulate(
        initial_weights(cfg, sizes),
        Identity(cfg.task).training_data(cfg.steps, cfg.seed)[0],
        Identity(cfg.task).probe()[0],
        cfg.model.activation,
        cfg.task.output_scale,
        cfg.optimizer.name,
        dataclasses.asdict(cfg.optimizer),
        cfg.clip.name,
        cfg.clip.threshold,
        expected_steps(cfg),
        dtype,
    )
    return _REFERENCES[key]


def run_of(m, r):
    """One run's measurements out of a stack: {metric: [K, layers] or [K]}."""
    return {name: values[:, r] for name, values in {**m.layer, **m.run}.items()}


def stray(cfg, name):
    """How far the float32 reference strays from the float64 one, per layer at worst."""
    twin, want = reference(cfg, np.float32)[name], reference(cfg)[name]
    return np.max(np.nan_to_num(np.abs(twin - want)), axis=0)


def assert_close(got, want, rtol, allowance, name):
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
    with np.errstate(invalid="ignore"):  # inf - inf: equal infs are no error
        err = np.where(got == want, 0.0, np.abs(got - want))
    excess = np.nan_to_num(err) - rtol * np.abs(want) - allowance
    worst = np.unravel_index(np.argmax(np.nan_to_num(excess)), got.shape)
    assert not np.nan_to_num(excess)[worst] > 0, (
        f"{name}{list(worst)}: {got[worst]!r} vs {want[worst]!r}"
    )


def assert_matches_reference(got, cfg):
    want = reference(cfg)
    assert set(got) == set(want)
    for name, values in got.items():
        assert values.shape == want[name].shape, name
        if name in EXACT:
            expected = want[name].astype(np.float32)
            np.testing.assert_array_equal(values, expected, err_msg=name)
        else:
            assert_close(values, want[name], RTOL, TWIN * stray(cfg, name), name)


def assert_same_run(got, want, cfg=None):
    """Stacked vs solo; `cfg` (if given) lets the run's float32 stray in too."""
    for name in got:
        allowance = 0.0 if cfg is None else TWIN * stray(cfg, name)
        assert_close(got[name], want[name], STACK_RTOL, allowance, name)


@pytest.fixture(scope="module")
def origin_stack():
    return engine.train(ORIGIN_RUNS)  # alternating lrs: each run must get its own


@pytest.fixture(scope="module")
def he_stack():
    return engine.train(HE_RUNS)


@pytest.fixture(scope="module")
def tanh_stack():
    return engine.train(TANH_RUNS)


@pytest.fixture(scope="module")
def gelu_stack():
    return engine.train(GELU_RUNS)


@pytest.fixture(scope="module")
def gelu_solos():
    return [engine.train([cfg]) for cfg in (*GELU_RUNS, DIVERGING)]


# --- trajectories against the numpy reference -------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("r", [0, 1])
def test_origin_net_matches_reference(origin_stack, r):
    np.testing.assert_array_equal(origin_stack.steps, [0, 1, 2, 3, 4])
    assert_matches_reference(run_of(origin_stack, r), ORIGIN_RUNS[r])


@pytest.mark.slow
@pytest.mark.parametrize("r", [0, 1])
def test_he_relu_net_adagrad_value_clip_matches_reference(he_stack, r):
    got = run_of(he_stack, r)
    assert np.any(got["grad_norm_clipped"] < got["grad_norm"])  # the clip acts
    assert_matches_reference(got, HE_RUNS[r])


@pytest.mark.slow
@pytest.mark.parametrize("r", [0, 1])
def test_tanh_net_rmsprop_norm_clip_matches_reference(tanh_stack, r):
    got = run_of(tanh_stack, r)
    assert np.any(got["grad_norm_clipped"] < got["grad_norm"])  # the clip acts
    assert_matches_reference(got, TANH_RUNS[r])


@pytest.mark.slow
def test_sigmoid_net_adam_global_norm_clip_matches_reference():
    got = run_of(engine.train([SIGMOID]), 0)
    assert np.any(got["global_grad_norm_clipped"] < got["global_grad_norm"])
    assert_matches_reference(got, SIGMOID)


@pytest.mark.slow
@pytest.mark.parametrize("r", [0, 1, 2])
def test_gelu_net_momentum_logged_every_3_matches_reference(gelu_stack, r):
    """The steps between logs run unmeasured in an inner loop; they must train alike."""
    np.testing.assert_array_equal(gelu_stack.steps, [0, 3, 6, 9, 10])
    assert_matches_reference(run_of(gelu_stack, r), GELU_RUNS[r])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_and_their_slopes_match_reference(name):
    z = np.linspace(-4.0, 4.0, 161, dtype=np.float32)
    z = z[z != 0.0]  # at a kink the slope is a convention
    z_tf = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(z_tf)
        out = OPS[name](z_tf)
    slope = tape.gradient(out, z_tf).numpy()
    f, df = ACTIVATIONS[name]
    z64 = z.astype(np.float64)
    np.testing.assert_allclose(out.numpy(), f(z64), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(slope, df(z64), rtol=1e-5, atol=1e-6)


# --- clipping by value, derived by hand -------------------------------------------


def test_value_clip_by_hand():
    """One Dense 1->1 unit: dL/dw = -2 s (x - s (w x + b)) x, clipped to [-4.5, 4.5]."""
    s, lr, thr = 4.0, 1e-2, 4.5
    cfg = Config(
        depth=1,
        init=InitConfig(name="normal", std=1.0, bias=2.0),
        optimizer=OptimizerConfig(name="sgd", lr=lr),
        clip=ClipConfig(name="value", threshold=thr),
        task=TaskConfig(batch_size=1, output_scale=s),
        steps=2,
        log_every=0,  # only the first and the last step
        seed=1,
    )
    [(kernel, bias)] = initial_weights(cfg, [1, 1])
    w, b = float(kernel[0, 0]), float(bias[0])
    xs = Identity(cfg.task).training_data(cfg.steps, cfg.seed)[0][:, 0, 0].astype(float)

    def grads(w, b, x):
        error = x - s * (w * x + b)
        return -2 * s * error * x, -2 * s * error

    def clip(g):
        return max(-thr, min(thr, g))

    rows = [(w, *grads(w, b, xs[0]))]
    for x in xs[:2]:
        g_w, g_b = grads(w, b, x)
        w, b = w - lr * clip(g_w), b - lr * clip(g_b)
    rows.append((w, *grads(w, b, xs[2])))
    assert abs(rows[0][1]) > thr and abs(rows[0][2]) > thr  # both entries get clipped

    m = engine.train([cfg])
    got = run_of(m, 0)
    np.testing.assert_array_equal(m.steps, [0, 2])
    assert got["grad_norm_clipped"][0, 0] == np.float32(thr)
    for k, (w, g_w, g_b) in enumerate(rows):
        np.testing.assert_allclose(got["grad_norm"][k, 0], abs(g_w), rtol=1e-5)
        np.testing.assert_allclose(got["grad_norm_clipped"][k, 0], min(abs(g_w), thr))
        clipped = math.hypot(clip(g_w), clip(g_b))
        np.testing.assert_allclose(got["global_grad_norm_clipped"][k], clipped, 1e-5)
        np.testing.assert_allclose(got["weight_norm"][k, 0], abs(w), rtol=1e-5)


# --- stacking, divergence, logged steps -------------------------------------------


def test_logged_steps():
    assert list(program_key(gelu(0, 1e-2)).logged_steps) == [0, 3, 6, 9, 10]
    every_0 = dataclasses.replace(gelu(0, 1e-2), log_every=0)
    assert list(program_key(every_0).logged_steps) == [0, 10]


@pytest.mark.slow
def test_stacked_runs_equal_solo_runs(gelu_stack, gelu_solos):
    assert gelu_stack.layer["grad_norm"].shape == (5, 3, 3)  # [steps, runs, layers]
    for r in range(3):
        assert_same_run(run_of(gelu_stack, r), run_of(gelu_solos[r], 0), GELU_RUNS[r])
    np.testing.assert_array_equal(gelu_stack.diverged_at, [-1, -1, -1])


@pytest.mark.slow
def test_diverging_run_leaves_its_neighbours_alone(gelu_stack, gelu_solos):
    a, _, c = GELU_RUNS
    m = engine.train([a, DIVERGING, c])
    assert m.diverged_at[0] == m.diverged_at[2] == -1
    assert m.diverged_at[1] >= 0
    for r in (0, 2):  # bit for bit as beside a healthy run, and as when alone
        for name, values in run_of(m, r).items():
            np.testing.assert_array_equal(values, run_of(gelu_stack, r)[name], name)
        assert_same_run(run_of(m, r), run_of(gelu_solos[r], 0), GELU_RUNS[r])

    bad = run_of(m, 1)
    after = m.steps > m.diverged_at[1]
    assert not np.all(np.isfinite(bad["loss"][after]))
    # It stops updating and keeps its last finite weights. Measured at those weights,
    # a loss of (1e20)^2 overflows float32 to +inf and gradients may be NaN; nothing
    # reads as finite that is not, and no magnitude reads -inf.
    assert np.all(np.isfinite(bad["weight_norm"]))
    assert np.all(bad["weight_norm"][after] == bad["weight_norm"][-1])
    assert np.all(bad["update_ratio"][after] == 0)
    for name, values in bad.items():
        assert not np.any(np.isneginf(values)), name
    # a gradient holding NaNs has a NaN largest entry (XLA's reduce_max skips NaNs)
    assert np.all(np.isnan(bad["grad_max"]) | ~np.isnan(bad["grad_norm"]))
    # ... and its record is the one it has alone
    assert gelu_solos[3].diverged_at[0] == m.diverged_at[1]
    assert_same_run(bad, run_of(gelu_solos[3], 0))


@pytest.mark.slow
def test_runs_of_every_optimizer_share_a_program_bit_for_bit():
    """A group of mixed optimizers steps each run with its own: every number equals
    that of a group of its optimizer alone, exactly, a diverging run included."""
    names = ("sgd", "momentum", "adam", "rmsprop", "adagrad")

    def run(name, seed):
        return dataclasses.replace(
            gelu(seed, 1e-2), optimizer=OptimizerConfig(name=name, lr=1e-2)
        )

    alone = {name: [run(name, 0), run(name, 1)] for name in names}
    alone["momentum"].append(DIVERGING)
    mixed = [cfg for seed in (0, 1) for cfg in (alone[n][seed] for n in names)]
    mixed.append(DIVERGING)
    together = engine.train(mixed)
    assert together.diverged_at[-1] >= 0
    for name, cfgs in alone.items():
        own = engine.train(cfgs)
        for r, cfg in enumerate(cfgs):
            got = run_of(together, mixed.index(cfg))
            for metric, values in run_of(own, r).items():
                np.testing.assert_array_equal(got[metric], values, f"{name} {metric}")
            assert together.diverged_at[mixed.index(cfg)] == own.diverged_at[r]


@pytest.mark.slow
def test_runs_of_every_clip_kind_share_a_program_bit_for_bit():
    """A program holds only the clip kinds its runs use (train/update.py); in a group
    of every kind each run's numbers equal those of a group of its kind alone,
    exactly, a diverging run of each kind included (its non-finite gradients must not
    turn NaN in a kind it does not use: inf / inf)."""
    clips = {"none": 1.0, "value": 0.05, "norm": 0.1, "global_norm": 0.1}
    diverging = gelu(3, 1e30, gain=3.0)  # a clipped step of 1e30 * 0.05 overflows too

    def run(name, base):
        return dataclasses.replace(base, clip=ClipConfig(name, clips[name]))

    alone = {
        name: [run(name, gelu(0, 1e-2)), run(name, gelu(1, 3e-2)), run(name, diverging)]
        for name in clips
    }
    mixed = [cfg for cfgs in alone.values() for cfg in cfgs]
    together = engine.train(mixed)
    for name, cfgs in alone.items():
        own = engine.train(cfgs)
        assert own.diverged_at[2] >= 0
        for r, cfg in enumerate(cfgs):
            got = run_of(together, mixed.index(cfg))
            for metric, values in run_of(own, r).items():
                np.testing.assert_array_equal(got[metric], values, f"{name} {metric}")
            assert together.diverged_at[mixed.index(cfg)] == own.diverged_at[r]


def test_overflowing_update_stops_the_run_at_its_last_finite_weights():
    """Momentum, lr 3e38: a step overflows float32 where some |g| > 3.4e38 / lr."""
    cfg = gelu(4, 3e38, gain=1.6)
    m = engine.train([cfg])
    got = run_of(m, 0)
    limit = np.finfo(np.float32).max / 3e38  # 1.13
    # step 0: loss and gradients finite, the update not; step 3: the update is finite
    # too, yet a run that has diverged must not resume
    assert np.isfinite(got["loss"][0]) and np.max(got["grad_max"][0]) > limit
    assert np.max(got["grad_max"][1]) < limit and m.steps[1] == 3
    assert m.diverged_at[0] == 0
    initial = initial_weights(cfg, [1, 12, 12, 1])
    norms = [np.linalg.norm(kernel.astype(np.float64)) for kernel, _ in initial]
    np.testing.assert_allclose(got["weight_norm"], np.tile(norms, (5, 1)), rtol=1e-6)
    assert np.all(got["update_ratio"] == 0)


# --- theory: the measured signal gain at initialization -----------------------------


def per_layer_gain(m, layers):
    """RMS over runs of bias_grad_norm[i] / bias_grad_norm[i + 1], for i in `layers`.

    With one input per batch the bias gradient is dL/dz of that input: the per-sample
    signal that He et al. (2015) and Glorot & Bengio (2010) follow. (A batch's sum also
    carries how its inputs' signals correlate, which that theory leaves out.)
    """
    b = m.layer["bias_grad_norm"][0]  # step 0, at initialization: [runs, layers]
    ratios = np.stack([b[:, i] / b[:, i + 1] for i in layers], axis=1)
    return np.sqrt(np.mean(ratios**2, axis=0))


@pytest.mark.slow
def test_he_init_keeps_the_relu_signal_gain_at_one(he_stack):
    # He et al. 2015, eq. 13: backward, Var[dL/dz_i] = n_out Var[w] / 2 Var[dL/dz_i+1]
    # = 256 * (2 / 256) / 2 = 1 through the 256x256 kernels between hidden layers 1-5.
    np.testing.assert_allclose(per_layer_gain(he_stack, range(4)), 1.0, atol=0.05)
    # Forward, eq. 8: E[h^2] is kept in every hidden layer. The first kernel (fan-in 1)
    # has variance 2: E[z_0^2] = 2 x^2, E[relu(z_0)^2] = x^2. So act_rms = RMS(probe).
    act = he_stack.layer["act_rms"][0, :, :5]
    probe_rms = np.sqrt(np.mean(Identity(HE_RUNS[0].task).probe()[0] ** 2))
    np.testing.assert_allclose(np.sqrt(np.mean(act**2, axis=0)), probe_rms, rtol=0.05)


@pytest.mark.slow
def test_glorot_init_keeps_the_tanh_signal_gain_near_one(tanh_stack):
    # Glorot & Bengio 2010: hidden kernels have Var = 2 / (256 + 256), so the gain is
    # sqrt(256 Var E[tanh'(z)^2]) = sqrt(E[tanh'(z)^2]) ~ sqrt(1 - 2 E[z^2]). The first
    # kernel has Var 2 / 257 and x ~ U(-1, 1), so E[z^2] = 2 / (3 * 257), and the
    # near-linear layers after it keep it: a gain of 0.997.
    expected = math.sqrt(1 - 2 * 2 / (3 * 257))
    gains = per_layer_gain(tanh_stack, range(2))  # hidden layers 1-3
    np.testing.assert_allclose(gains, expected, atol=0.05)


@pytest.mark.slow
def test_tiny_normal_init_vanishes_as_predicted(origin_stack):
    # Normal(0, std = 1e-3) weights in 1-16-16-1. Going back a layer, dL/dh_i = W_i+1
    # dL/dz_i+1 has 16 entries of variance std^2 |dL/dz_i+1|^2, and relu' keeps about
    # half of them: |dL/dz_i| ~ std sqrt(16 / 2) |dL/dz_i+1| = 2.8e-3 |dL/dz_i+1|. With
    # one input a batch, bias_grad_norm = |dL/dz|: the middle layer's is 2.8e-3 of the
    # output layer's, the first layer's (2.8e-3)^2 = 8e-6 of it.
    per_layer = 1e-3 * math.sqrt(16 / 2)
    b = origin_stack.layer["bias_grad_norm"][0]  # [runs, 3]
    for layer, expected in [(1, per_layer), (0, per_layer**2)]:
        measured = np.sqrt(np.mean((b[:, layer] / b[:, 2]) ** 2))
        assert expected / 3 < measured < expected * 3, (layer, measured, expected)


def wine_tanh(seed):
    """A normalized tanh net on wine (3 classes), one example a batch: its softmax
    and layer norm run on [R, 1, 3] and [R, 1, 1] tensors, short of a SIMD packet."""
    return Config(
        depth=3,
        model=ModelConfig(width=8, activation="tanh", norm="layer"),
        init=InitConfig(name="xavier"),
        optimizer=OptimizerConfig(name="adam", lr=1e-2),
        clip=ClipConfig(name="none"),
        task=TaskConfig(name="wine", batch_size=1),
        steps=20,
        log_every=5,
        seed=seed,
    )


@pytest.mark.slow
def test_measurements_do_not_depend_on_the_group_size():
    """The measurements run as graph ops outside XLA (train/engine.py): a run's
    numbers are the same bits in a group of 3 as alone, through a softmax, tanh and
    a layer norm on tensors short of a SIMD packet (this failed unpadded)."""
    cfgs = [wine_tanh(seed) for seed in range(3)]
    together = engine.train(cfgs)
    for r, cfg in enumerate(cfgs):
        alone = engine.train([cfg])
        for name, values in run_of(alone, 0).items():
            np.testing.assert_array_equal(run_of(together, r)[name], values, name)
