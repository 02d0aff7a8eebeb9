"""Time sweeper's compiled engine against plain TF2 loops on the origin 3-layer net.

    python bench/engine_speed.py [--steps 10000] [--repeats 3]

All methods train the same net on the same data: 1 -> 16 ReLU -> 16 ReLU -> 1,
weights and biases ~ Normal(0, 1e-3), x ~ U(-1, 1) batch 1, estimate = 2 * out,
squared error, gradients clipped by value to 4.5, SGD lr 1e-3.
Times are wall seconds from `time.perf_counter`.
"""

import argparse
import time

import numpy as np

# Imported before TensorFlow runs anything: importing the engine (through
# sweeper.train._tf) pins TF to one intra-op and one inter-op thread, so the baselines
# run under the same.
from sweeper.config.schema import Config, InitConfig
from sweeper.train import engine
from sweeper.train.components import model_of, task_of

import tensorflow as tf

ORIGIN_INIT = InitConfig(name="normal", std=1e-3, bias_like_weights=True)


def origin(steps: int, seed: int = 0, log_every: int = 100) -> Config:
    """The origin case: schema defaults plus the question's Normal(0, 1e-3) init."""
    return Config(init=ORIGIN_INIT, steps=steps, seed=seed, log_every=log_every)


def time_engine(steps: int, log_every: int, repeats: int) -> tuple[float, float, dict]:
    """Seconds of the first train() (trace + XLA compile), of the best warm one, and the
    seed-0 run's check. Warm calls reuse the trace with seeds 1..repeats."""
    start = time.perf_counter()
    result = engine.train([origin(steps, 0, log_every)])
    first = time.perf_counter() - start
    warm = []
    for seed in range(1, repeats + 1):
        start = time.perf_counter()
        engine.train([origin(steps, seed, log_every)])
        warm.append(time.perf_counter() - start)
    norms = result.layer["weight_norm"][:, 0]
    check = {
        "probe loss": result.run["probe_loss"][[0, -1], 0],
        "kernel norm change": norms[-1] - norms[0],
    }
    return first, min(warm), check


def forward(params: list, x: tf.Tensor) -> tf.Tensor:
    """Output of the Dense stack; params alternate kernel, bias; hidden layers ReLU."""
    h = x
    for i in range(0, len(params), 2):
        z = tf.matmul(h, params[i]) + params[i + 1]
        h = tf.nn.relu(z) if i + 2 < len(params) else z
    return h


def loop_check(init: list, params: list, cfg: Config) -> dict:
    """Probe loss before and after, and kernel L2 norm change, as the engine logs."""
    x, y = (tf.constant(part) for part in task_of(cfg).probe())
    estimates = [cfg.task.output_scale * forward(ws, x) for ws in (init, params)]
    loss = [float(tf.reduce_mean(tf.square(y - e))) for e in estimates]
    norms = [np.array([float(tf.norm(k)) for k in ws[0::2]]) for ws in (init, params)]
    return {"probe loss": loss, "kernel norm change": norms[1] - norms[0]}


def make_step(params: list, cfg: Config):
    """A plain TF2 step on tf.Variables: tape, clip by value, SGD via assign_sub."""
    # assign_sub is Keras SGD's rule without momentum. SGD(1e-3).apply_gradients does
    # the same but ran ~1.5x slower eager; the cheaper form keeps the baseline strong.
    scale, lr, threshold = cfg.task.output_scale, cfg.optimizer.lr, cfg.clip.threshold

    def step(x):
        with tf.GradientTape() as tape:
            estimate = scale * forward(params, x)
            loss = tf.reduce_mean(tf.square(x - estimate))  # the identity task
        grads = tape.gradient(loss, params)
        for p, g in zip(params, grads):
            p.assign_sub(lr * tf.clip_by_value(g, -threshold, threshold))

    return step


def time_loop(compiled: bool, steps: int, repeats: int) -> tuple[float, dict]:
    """Best seconds of a Python loop of `steps` steps from seed 0, and its check."""
    cfg = origin(steps)
    task = task_of(cfg)
    init = model_of(cfg, task).initial_params(cfg.init, 0)
    params = [tf.Variable(a) for a in init]
    # The engine's own data for seed 0; the extra last row only feeds its final probe.
    inputs = tf.unstack(tf.constant(task.training_data(steps, 0)[0][:steps]))
    step = make_step(params, cfg)
    step = tf.function(step) if compiled else step
    seconds = []
    for _ in range(repeats):
        for p, a in zip(params, init):
            p.assign(a)
        start = time.perf_counter()
        for x in inputs:
            step(x)
        seconds.append(time.perf_counter() - start)
    return min(seconds), loop_check(init, params, cfg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="steps per run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; min kept")
    args = parser.parse_args()
    n, repeats = args.steps, args.repeats
    script_start = time.perf_counter()

    rows, checks = {}, {}
    # Logging cost: the same run measured every step, every 10, every 100, or only at
    # the first and last step (0).
    for log_every in (0, 1, 10, 100):
        first, warm, checks[f"engine, log_every={log_every}"] = time_engine(
            n, log_every, repeats
        )
        rows[f"engine, log_every={log_every}, first call (compile)"] = first
        rows[f"engine, log_every={log_every}, warm (min of {repeats})"] = warm
    eager, checks["eager loop"] = time_loop(False, n, repeats)
    rows[f"eager loop (min of {repeats})"] = eager
    per_step, checks["tf.function per step"] = time_loop(True, n, repeats)
    rows[f"tf.function per step (min of {repeats})"] = per_step

    threads = (
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    )
    print(f"TensorFlow {tf.__version__}, CPU; intra/inter-op threads {threads} for all")
    print("methods (set by importing sweeper.engine first). All loops run every step;")
    print("none is scaled from a subset. Engine times include building its weights and")
    print("inputs; baselines get theirs prebuilt. First calls are one sample each; the")
    print("first also pays one-time process costs (Keras import, TF runtime start).\n")
    head = f"{'method':<46}{f's/{n} steps':>14}{'steps/s':>10}"
    print(f"{head}{'x eager':>10}{'x tf.fn':>10}")
    for name, seconds in rows.items():
        line = f"{name:<46}{seconds:>14.3f}{n / seconds:>10.0f}"
        if name.startswith("engine"):
            line += f"{eager / seconds:>10.1f}{per_step / seconds:>10.1f}"
        print(line)
    print("(x eager, x tf.fn: how many times faster than that baseline)\n")

    print(f"Same computation? Seed 0, same initial weights and inputs, {n} steps:")
    print(f"  {'method':<24}{'probe loss start -> end':>26}   kernel norm change/layer")
    for name, check in checks.items():
        start, end = check["probe loss"]
        change = " ".join(f"{c:+.4e}" for c in check["kernel norm change"])
        print(f"  {name:<24}{start:>12.7f} -> {end:.7f}   {change}")
    print("(the origin net barely learns, so the kernel changes are the sharper check)")
    print(f"\nWhole script: {time.perf_counter() - script_start:.0f} s")


if __name__ == "__main__":
    main()
