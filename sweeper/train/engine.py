"""The training loop: R runs of one program trained together, measured.

Runs that share a `ProgramKey` share one program. Their weights are stacked along a
leading run axis ([R, in, out]) and carried through the loop as tensors; everything that
may differ between them (initial weights, data, learning rate, clip threshold, ...) is a
per-run tensor. Each run's loss is its own, so summing them before one gradient call
keeps runs independent. A group of one run (R = 1) is the per-job path.

The steps between two log points are one XLA program; the measurement at each log
point runs as TensorFlow graph ops around it. Measuring is a few hundred small ops
run once per log point, and compiled by XLA it cost most of the compile time (two
thirds of it at depth 6) for a share of the run time too small to see.
"""

import time

import numpy as np

from sweeper.config.options import OPTIMIZER_HYPERPARAMS, clip_thresholds
from sweeper.config.schema import Config
from sweeper.contract import (
    HISTOGRAM_ARRAYS,
    KERNEL,
    LAYER_METRICS,
    RUN_METRICS,
    Measurements,
    ProgramKey,
)
from sweeper.train import compile_cache, divergence, measure, optim
from sweeper.train.update import Update
from sweeper.train._tf import tf
from sweeper.train.components import (
    Model,
    Task,
    clips_of,
    model_of,
    optimizers_of,
    program_key,
    task_of,
)


def train(cfgs: list[Config]) -> Measurements:
    """Train runs of one program key together and return their measurements."""
    key = program_key(cfgs[0])
    if any(program_key(cfg) != key for cfg in cfgs):
        raise ValueError("runs of one group must share a program key")
    started, start = time.time(), time.perf_counter()
    runs = len(cfgs)
    # XLA compiles a stack of one run to other kernels than a stack of several, whose
    # float32 rounding differs (~1e-6); a stack of 2 rounds exactly as a stack of 256.
    # A lone run trains beside a copy of itself, so its files are bit-identical
    # whether it trains alone or in any group.
    cfgs = cfgs * 2 if runs == 1 else cfgs
    task = task_of(cfgs[0])
    model = model_of(cfgs[0], task)
    params = _stack([model.initial_params(cfg.init, cfg.seed) for cfg in cfgs])
    buffers = _stack([model.initial_buffers() for _ in cfgs])
    rules = optimizers_of(cfgs), clips_of(cfgs)
    optimizers = rules[0]
    per_run = [_hyperparams(cfg) for cfg in cfgs]
    hp = {
        name: tf.constant([values[name] for values in per_run], tf.float32)
        for name in per_run[0]
    }
    # Which of the group's optimizers each run uses (an index into `optimizers`)
    hp["optimizer"] = tf.constant(
        [optimizers.index(cfg.optimizer.name) for cfg in cfgs], tf.int32
    )
    data = _data([task_of(cfg).training_data(cfg.steps, cfg.seed) for cfg in cfgs])
    probe = tuple(tf.constant(part) for part in task.probe())
    program = _program(key, task, model, rules, len(cfgs))
    model.runs = len(cfgs)  # a model that traces its runs one by one reads it
    try:
        outputs = program(params, buffers, data, probe, hp)
    except tf.errors.InvalidArgumentError as exc:
        if not compile_cache.is_cache_error(exc):
            raise
        compile_cache.distrust(str(exc).strip().splitlines()[0])
        _PROGRAMS.clear()  # a new trace is a new program to look up
        program = _program(key, task, model, rules, len(cfgs))
        outputs = program(params, buffers, data, probe, hp)
    compiled = compile_cache.publish() if compile_cache.active() else None
    layer, run, diverged_at, hists, final = outputs
    diverged_at = diverged_at.numpy()
    diverged_in = (
        divergence.where(
            Update(task, model, *rules),
            final,
            data,
            hp,
            diverged_at[:runs],
            getattr(model, "layer_names", None),
        )
        if (diverged_at[:runs] >= 0).any()
        else [None] * runs
    )
    return Measurements(
        steps=key.logged_steps,
        layer={n: layer[n].numpy()[:, :runs] for n in LAYER_METRICS},
        run={n: run[n].numpy()[:, :runs] for n in RUN_METRICS},
        diverged_at=diverged_at[:runs],
        diverged_in=diverged_in,
        compiled=compiled,
        baseline_loss=task.baseline_loss(),
        started=started,
        histograms={n: values.numpy()[:, :runs] for n, values in hists.items()},
        seconds=time.perf_counter() - start,
    )


def _hyperparams(cfg: Config) -> dict:
    """A run's per-run numbers: optimizer constants, clip thresholds, the task's."""
    values = {name: getattr(cfg.optimizer, name) for name in OPTIMIZER_HYPERPARAMS}
    thresholds = clip_thresholds(cfg.clip.name, cfg.clip.threshold)
    values.update({f"clip_{kind}": value for kind, value in thresholds.items()})
    return {**values, **task_of(cfg).hyperparams()}


def _stack(runs: list[list[np.ndarray]]) -> list[tf.Tensor]:
    return [tf.constant(np.stack(arrays)) for arrays in zip(*runs)]


def _data(runs: list[tuple]) -> tuple:
    """Each run's training data, its arrays stacked along a run axis after the step
    axis ([steps + 1, R, ...]); arrays the runs share (a data set) are passed once."""
    shared = [all(a is r[i] for r in runs) for i, a in enumerate(runs[0])]
    return tuple(
        tf.constant(runs[0][i] if same else np.stack([r[i] for r in runs], axis=1))
        for i, same in enumerate(shared)
    )


_PROGRAMS: dict = {}


def _program(key: ProgramKey, task: Task, model: Model, rules: tuple, runs: int):
    """The compiled loop for `runs` runs of a program key, traced once, then reused.
    `rules`: the group's optimizers and clip kinds (components.optimizers_of, clips_of).
    """
    cache_key = (key, rules, runs)  # one function per key: each traces once
    if cache_key not in _PROGRAMS:
        # autograph=False: the loops are explicit tf.while_loops, and autograph would
        # rewrite the source of every helper, most of the trace time.
        loop = _loop(key, task, model, *rules)
        _PROGRAMS[cache_key] = tf.function(loop, autograph=False)
    return _PROGRAMS[cache_key]


def _loop(key: ProgramKey, task: Task, model: Model, optimizers: tuple, clips: tuple):
    """The whole-run loop: an outer loop over log points, an inner one of steps.

    Logging sits outside the inner loop rather than behind a per-step `if`: inside an
    XLA loop such a branch copies the whole log buffer every step.
    """
    every = key.log_every or key.steps
    n_logged = key.n_logged - 1  # rows after the first (row 0: the initial step)
    update = Update(task, model, optimizers, clips)
    specs, counts = update.specs, update.counts
    flatten, unflatten = update.flatten, update.unflatten

    def step(params, slots, diverged_at, buffers, x, y, t, hp):
        """One SGD-family update of every run: the new state, and what the step saw."""
        done = update(params, slots, buffers, x, y, t, hp)
        losses, flat_params = done["losses"], done["flat_params"]
        flat_grads, flat_new = done["flat_grads"], done["flat_new"]
        new_slots, new_buffers = done["new_slots"], done["new_buffers"]
        # A run whose loss, gradients or updated state stop being finite keeps its last
        # finite state from then on, so its files stay valid and its neighbours never
        # see its NaNs. (An update can overflow while loss and gradients are finite.)
        # x * 0 is 0 for a finite x and NaN for an infinite or NaN one, so the sum is
        # finite exactly when every entry is: one reduction for all four vectors,
        # where is_finite then reduce_all compiled to four kernels each.
        zeros = [flat * 0.0 for flat in [flat_grads, flat_new, *new_slots]]
        poison = tf.reduce_sum(tf.add_n(zeros), axis=1)
        finite = tf.math.is_finite(losses) & tf.math.is_finite(poison)
        apply = finite & (diverged_at < 0)  # a diverged run stops updating for good
        keep = lambda new, old: tf.where(apply[:, None], new, old)  # noqa: E731
        new_params = unflatten(keep(flat_new, flat_params))
        new_slots = [keep(n, o) for n, o in zip(new_slots, slots)]
        new_buffers = [keep(n, o) for n, o in zip(new_buffers, buffers)]
        # The step at t = steps is only measured (see `loop`): it cannot diverge a run.
        diverges = (diverged_at < 0) & ~finite & (t < key.steps)
        diverged_at = tf.where(diverges, tf.cast(t, diverged_at.dtype), diverged_at)
        # What the step saw leaves the loop as the flat vectors it made anyway: carrying
        # the per-tensor lists cost a copy of each tensor every step.
        seen = (flat_params, flat_grads, done["flat_clipped"])
        return (new_params, new_slots, diverged_at, new_buffers), seen

    def measured(seen, state, batch, probe, hp, initial):
        """What a step saw (its weights, gradients and batch), as the statistics
        logged for it; the probe reads the running statistics after it. `initial`:
        the runs' initial parameters."""
        params, grads, clipped = map(unflatten, seen)
        new_params, buffers = state[0], state[3]
        stats = measure.gradient_stats(specs, params, grads, clipped, new_params)
        stats["drift"] = measure.drift(specs, params, initial)
        stats.update(per_example(params, buffers, *batch, hp))
        stats["global_grad_norm"] = measure.global_norm(grads)
        stats["global_grad_norm_clipped"] = measure.global_norm(clipped)
        if key.tensorboard:
            kernels = measure.by_role(params, specs, KERNEL)
            stats.update(
                measure.histograms(kernels, measure.by_role(grads, specs, KERNEL))
            )
        runs = tf.shape(params[0])[0]
        x, y = (tf.broadcast_to(part, [runs, *part.shape]) for part in probe)
        _, hs, active, _, _ = model.forward(params, x, buffers, training=False)
        estimate = task.predict(hs[-1], hp)
        stats["probe_loss"] = task.loss(estimate, y)
        stats["probe_accuracy"] = task.accuracy(estimate, y)
        stats["out_spread"] = task.spread(estimate, y)
        stats.update(measure.probe_stats(active, hs, model.relu_like))
        return stats

    def per_example(params, buffers, x, y, hp):
        """The per-example signal and kernel-gradient norms of the batch a step saw,
        and its loss (the step's own, recomputed here: the compiled step's rounding
        of it can depend on the stack size).

        A second pass over that batch, outside the training loop: the loop's step
        stays the same program. dL/dz is the tape's gradient by a zero tensor added
        to each pre-activation z (a model that runs its runs one by one has no
        stacked z on the loss's path to take the gradient by).
        """
        runs, batch = tf.shape(x)[0], tf.shape(x)[1]
        signal = [tf.zeros([runs, batch, *shape]) for shape in model.signal_shapes()]
        with tf.GradientTape() as tape:
            tape.watch(signal)
            _, hs, _, _, inputs = model.forward(params, x, buffers, signal=signal)
            estimate = task.predict(hs[-1], hp)
            losses = task.loss(estimate, y)
            total = tf.reduce_sum(losses)
        deltas = tape.gradient(total, signal)
        stats = measure.per_example_stats(deltas, inputs)
        stats["accuracy"] = task.accuracy(estimate, y)
        stats["loss"] = losses
        return stats

    def advance(start, end, state, data, hp):
        """Steps start..end, compiled; the state after them, and what step `end`
        saw (the zeros only give the shapes: the loop writes it)."""
        runs = tf.shape(state[0][0])[0]
        flat = tf.zeros([runs, sum(counts)])
        seen = (flat, flat, flat)

        def body(t, state, seen):
            return (t + 1, *step(*state, *task.batch(data, t), t, hp))

        return tf.while_loop(lambda t, *_: t <= end, body, (start, state, seen))[1:]

    compiled = tf.function(advance, jit_compile=True, autograph=False)

    def loop(params, buffers, data, probe, hp):
        runs = tf.shape(params[0])[0]
        flat = flatten(params)
        slots = optim.mixed_init_slots(optimizers, hp["optimizer"], flat, hp)
        diverged_at = tf.fill([runs], tf.constant(-1, tf.int32))
        dtypes = dict.fromkeys(LAYER_METRICS + RUN_METRICS, tf.float32)
        if key.tensorboard:  # without it, the program is exactly the one before
            dtypes.update(measure.HISTOGRAM_DTYPES)
        names = tuple(dtypes)
        logs = {n: tf.TensorArray(dtypes[n], size=n_logged + 1) for n in names}

        # Row i ends with logged step i * every, which is measured from what it saw:
        # the program holds one copy of the step, not a plain and a measured one (a
        # second copy would add a third to the compile time). The last row's last step,
        # at t = steps, measures the trained weights; its update is never used.
        def row(i, state, logs):
            start = tf.maximum((i - 1) * every + 1, 0)
            end = tf.minimum(i * every, key.steps)
            state, seen = compiled(start, end, state, data, hp)
            batch = task.batch(data, end)
            seen_, state_, batch_, hp_, params_ = measure.padded(
                (seen, state, batch, hp, params), model
            )
            stats = measured(seen_, state_, batch_, probe, hp_, params_)
            logs = {n: logs[n].write(i, stats[n][:runs]) for n in names}
            return i + 1, state, logs

        state = (params, slots, diverged_at, buffers)
        _, (params, slots, diverged_at, buffers), logs = tf.while_loop(
            lambda i, *_: i <= n_logged, row, (tf.constant(0), state, logs)
        )
        stacked = {n: logs[n].stack() for n in names}
        layer = {n: stacked[n] for n in LAYER_METRICS}
        run = {n: stacked[n] for n in RUN_METRICS}
        hists = {n: stacked[n] for n in names if n in HISTOGRAM_ARRAYS}
        # the final state: a diverged run's is the one its first non-finite step
        # started from (train/divergence.py replays that step)
        return layer, run, diverged_at, hists, (params, slots, buffers)

    return loop
