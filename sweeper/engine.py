"""The compiled training loop: R runs of one shape trained together, measured en route.

Runs that share a `Shape` share one XLA program. Their weights are stacked along a
leading run axis ([R, in, out]) and carried through the loop as tensors; everything that
may differ between them (initial weights, data, learning rate, clip threshold, ...) is a
per-run tensor. Each run's loss is its own, so summing them before one gradient call
keeps runs independent. A group of one run (R = 1) is the per-job path.
"""

import math
import time

import numpy as np
from sweeper._tf import tf

from sweeper import measure, optim, registry, task
from sweeper.groups import Measurements, Shape, optimizers_of, shape_of
from sweeper.schema import Config

HYPERPARAMS = (
    "lr",
    "momentum",
    "beta_1",
    "beta_2",
    "rho",
    "epsilon",
    "initial_accumulator",
    "clip_value",
    "clip_norm",
    "clip_global_norm",
    "output_scale",
)


def train(cfgs: list[Config]) -> Measurements:
    """Train runs of one shape together and return their measurements."""
    shape = shape_of(cfgs[0])
    if any(shape_of(cfg) != shape for cfg in cfgs):
        raise ValueError("runs of one group must share a shape")
    start = time.perf_counter()
    runs = len(cfgs)
    # XLA compiles a stack of one run to other kernels than a stack of several, whose
    # float32 rounding differs (~1e-6); a stack of 2 rounds exactly as a stack of 256.
    # A lone run trains beside a copy of itself, so its files are bit-identical
    # whether it trains alone or in any group.
    cfgs = cfgs * 2 if runs == 1 else cfgs
    params = _stack([_flat_weights(cfg, shape) for cfg in cfgs])
    optimizers = optimizers_of(cfgs)
    hp = {
        name: tf.constant([_hyperparam(cfg, name) for cfg in cfgs], tf.float32)
        for name in HYPERPARAMS
    }
    # Which of the group's optimizers each run uses (an index into `optimizers`)
    hp["optimizer"] = tf.constant(
        [optimizers.index(cfg.optimizer.name) for cfg in cfgs], tf.int32
    )
    inputs = np.stack(
        [task.training_inputs(cfg.task, cfg.steps, cfg.seed) for cfg in cfgs], axis=1
    )
    probe = tf.constant(task.probe_inputs(cfgs[0].task))
    program = _program(shape, optimizers, len(cfgs))
    layer, run, diverged_at, hists = program(params, tf.constant(inputs), probe, hp)
    return Measurements(
        steps=shape.logged_steps,
        layer={n: layer[n].numpy()[:, :runs] for n in measure.LAYER_METRICS},
        run={n: run[n].numpy()[:, :runs] for n in measure.RUN_METRICS},
        diverged_at=diverged_at.numpy()[:runs],
        histograms={n: values.numpy()[:, :runs] for n, values in hists.items()},
        seconds=time.perf_counter() - start,
    )


def _hyperparam(cfg: Config, name: str) -> float:
    if name.startswith("clip_"):
        kinds = optim.clip_thresholds(cfg.clip.name, cfg.clip.threshold)
        return kinds[name.removeprefix("clip_")]
    if name == "output_scale":
        return cfg.task.output_scale
    return getattr(cfg.optimizer, name)


def _flat_weights(cfg: Config, shape: Shape) -> list[np.ndarray]:
    layers = registry.initial_weights(cfg.init, list(shape.sizes), cfg.seed)
    return [array for kernel_bias in layers for array in kernel_bias]


def _stack(runs: list[list[np.ndarray]]) -> list[tf.Tensor]:
    return [tf.constant(np.stack(arrays)) for arrays in zip(*runs)]


_PROGRAMS: dict = {}


def _program(shape: Shape, optimizers: tuple[str, ...], runs: int):
    """The compiled loop for `runs` runs of a shape, traced once and then reused."""
    key = (shape, optimizers, runs)  # one function per key: each traces exactly once
    if key not in _PROGRAMS:
        # autograph=False: the loops are explicit tf.while_loops, and autograph's
        # source rewriting of every helper was ~2/3 of the trace time.
        loop = _loop(shape, optimizers)
        _PROGRAMS[key] = tf.function(loop, jit_compile=True, autograph=False)
    return _PROGRAMS[key]


def _loop(shape: Shape, optimizers: tuple[str, ...]):
    """The whole-run loop: an outer loop over log points, an inner one of steps.

    Logging sits outside the inner loop rather than behind a per-step `if`: inside an
    XLA loop such a branch copies the whole log buffer every step (3.5x slower).
    """
    act = registry.activation(shape.activation)
    relu_like = shape.activation in registry.RELU_LIKE
    depth = len(shape.sizes) - 1
    every = shape.log_every or shape.steps
    n_logged = math.ceil(shape.steps / every)

    # Parameters alternate kernel [R, in, out] and bias [R, out], layer by layer.
    param_shapes = [
        part
        for a, b in zip(shape.sizes[:-1], shape.sizes[1:])
        for part in ((a, b), (b,))
    ]
    counts = [math.prod(part) for part in param_shapes]

    def flatten(tensors):
        """Per-parameter [R, ...] tensors as one [R, P] vector per run."""
        return tf.concat(
            [tf.reshape(t, [-1, n]) for t, n in zip(tensors, counts)], axis=1
        )

    def unflatten(flat):
        pieces = tf.split(flat, counts, axis=1)
        return [tf.reshape(p, [-1, *s]) for p, s in zip(pieces, param_shapes)]

    def forward(params, x):
        """Pre-activations z and outputs h of every layer, each [R, batch, units]."""
        zs, hs, h = [], [], x
        for i in range(depth):
            z = tf.matmul(h, params[2 * i]) + params[2 * i + 1][:, None, :]
            h = act(z) if i < depth - 1 else z
            zs.append(z)
            hs.append(h)
        return zs, hs

    def step(params, slots, diverged_at, x, t, hp):
        """One SGD-family update of every run: the new state, and what the step saw."""
        with tf.GradientTape() as tape:
            tape.watch(params)
            _, hs = forward(params, x)
            estimate = optim.per_run(hp["output_scale"], hs[-1]) * hs[-1]
            losses = tf.reduce_mean(tf.square(task.target(x) - estimate), axis=[1, 2])
            total = tf.reduce_sum(losses)
        grads = tape.gradient(total, params)
        clipped = optim.clip(
            grads, hp["clip_value"], hp["clip_norm"], hp["clip_global_norm"]
        )
        # The optimizer sees every parameter of a run as one flat [R, P] vector, and
        # the finite checks and the keep-or-revert below work on it: elementwise, the
        # same arithmetic, but one fused kernel each instead of one per tensor, which
        # is what XLA's compile time grows with.
        flat_params, flat_grads, flat_clipped = map(flatten, (params, grads, clipped))
        flat_new, new_slots = optim.mixed_update(
            optimizers, hp["optimizer"], flat_params, flat_clipped, slots, hp, t
        )
        # A run whose loss, gradients or updated state stop being finite keeps its last
        # finite state from then on, so its files stay valid and its neighbours never
        # see its NaNs. (An update can overflow while loss and gradients are finite.)
        finite = tf.math.is_finite(losses)
        for flat in [flat_grads, flat_new, *new_slots]:
            finite &= tf.reduce_all(tf.math.is_finite(flat), axis=1)
        apply = finite & (diverged_at < 0)  # a diverged run stops updating for good
        keep = lambda new, old: tf.where(apply[:, None], new, old)  # noqa: E731
        new_params = unflatten(keep(flat_new, flat_params))
        new_slots = [keep(n, o) for n, o in zip(new_slots, slots)]
        # The step at t = steps is only measured (see `loop`): it cannot diverge a run.
        diverges = (diverged_at < 0) & ~finite & (t < shape.steps)
        diverged_at = tf.where(diverges, tf.cast(t, diverged_at.dtype), diverged_at)
        # What the step saw leaves the loop as the flat vectors it made anyway: carrying
        # the per-tensor lists cost a copy of each tensor every step.
        seen = (flat_params, flat_grads, flat_clipped, losses)
        return (new_params, new_slots, diverged_at), seen

    def measured(seen, new_params, probe, hp):
        """What a step saw, as the statistics logged for it."""
        params, grads, clipped = map(unflatten, seen[:3])
        losses = seen[3]
        stats = measure.gradient_stats(params, grads, clipped, new_params)
        stats["loss"] = losses
        stats["global_grad_norm"] = measure.global_norm(grads)
        stats["global_grad_norm_clipped"] = measure.global_norm(clipped)
        if shape.tensorboard:
            stats.update(measure.histograms(params[0::2], grads[0::2]))
        x = tf.broadcast_to(probe, [tf.shape(params[0])[0], *probe.shape])
        zs, hs = forward(params, x)
        estimate = optim.per_run(hp["output_scale"], hs[-1]) * hs[-1]
        stats.update(measure.probe_stats(zs, hs, estimate, task.target(x), relu_like))
        return stats

    def loop(params, inputs, probe, hp):
        runs = tf.shape(params[0])[0]
        flat = flatten(params)
        slots = optim.mixed_init_slots(optimizers, hp["optimizer"], flat, hp)
        diverged_at = tf.fill([runs], tf.constant(-1, tf.int32))
        dtypes = dict.fromkeys(measure.LAYER_METRICS + measure.RUN_METRICS, tf.float32)
        if shape.tensorboard:  # without it, the program is exactly the one before
            dtypes.update(measure.HISTOGRAM_ARRAYS)
        names = tuple(dtypes)
        logs = {n: tf.TensorArray(dtypes[n], size=n_logged + 1) for n in names}

        def steps_to(end, t, state, seen):
            """Steps t..end; the state after them, and what step `end` saw."""

            def body(t, state, seen):
                return (t + 1, *step(*state, inputs[t], t, hp))

            return tf.while_loop(lambda t, *_: t <= end, body, (t, state, seen))[1:]

        # Row i ends with logged step i * every, which is measured from what it saw:
        # the program holds one copy of the step, not a plain and a measured one (the
        # second copy was ~1/3 of the compile time). The last row's last step, at
        # t = steps, measures the trained weights; its update is never used.
        def row(i, state, logs):
            start = tf.maximum((i - 1) * every + 1, 0)
            end = tf.minimum(i * every, shape.steps)
            # (what step `end` saw is written in the loop; these only give the shapes)
            flat = tf.zeros([runs, sum(counts)])
            seen = (flat, flat, flat, tf.zeros([runs]))
            state, seen = steps_to(end, start, state, seen)
            stats = measured(seen, state[0], probe, hp)
            logs = {n: logs[n].write(i, stats[n]) for n in names}
            return i + 1, state, logs

        state = (params, slots, diverged_at)
        _, (_, _, diverged_at), logs = tf.while_loop(
            lambda i, *_: i <= n_logged, row, (tf.constant(0), state, logs)
        )
        stacked = {n: logs[n].stack() for n in names}
        layer = {n: stacked[n] for n in measure.LAYER_METRICS}
        run = {n: stacked[n] for n in measure.RUN_METRICS}
        hists = {n: stacked[n] for n in names if n in measure.HISTOGRAM_ARRAYS}
        return layer, run, diverged_at, hists

    return loop
