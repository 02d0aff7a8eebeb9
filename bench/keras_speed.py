"""The origin net as a user's Keras Sequential (model=keras) against sweeper's own MLP
and a per-step tf.function loop: run-steps per second, in one process.

    python bench/keras_speed.py [--runs 32] [--steps 2000]

(a) model=mlp and (b) model=keras train `--runs` seeds of the origin 3-layer net
(1 -> 16 ReLU -> 16 ReLU -> 1, Normal(0, 1e-3), SGD lr 1e-3, clip by value 4.5, the
identity task, logged every 100 steps) as one compiled group each; (c) one run of the
same net in a Python loop of a `tf.function` step, timed over all its steps. Each row
is timed twice with `time.perf_counter`: the first call (trace and compile included)
and a second call on other seeds (the program reused). Prints run-steps/s and the
ratios; asserts nothing.
"""

import argparse
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from sweeper.config.schema import Config, InitConfig, ModelConfig
from sweeper.train import engine
from sweeper.train.components import model_of, task_of

import tensorflow as tf

INIT = InitConfig(name="normal", std=1e-3, bias_like_weights=True)
USER_MODULE = """
import keras


def origin(input_shape, output_dim):
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(output_dim),
        ]
    )
"""


def configs(model: ModelConfig, runs: int, steps: int, first_seed: int) -> list:
    return [
        Config(model=model, init=INIT, steps=steps, seed=first_seed + s)
        for s in range(runs)
    ]


def time_engine(model: ModelConfig, runs: int, steps: int) -> tuple[float, float]:
    """Seconds of the first group (compile included) and of a second one."""
    times = []
    for first_seed in (0, runs):
        start = time.perf_counter()
        engine.train(configs(model, runs, steps, first_seed))
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def time_per_step(steps: int) -> tuple[float, float]:
    """One run in a Python loop over a tf.function step: first and second pass."""
    cfg = Config(init=INIT, steps=steps)
    task = task_of(cfg)
    init = model_of(cfg, task).initial_params(cfg.init, 0)
    params = [tf.Variable(a) for a in init]
    inputs = tf.unstack(tf.constant(task.training_data(steps, 0)[0][:steps]))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            h = x
            for i in range(0, len(params), 2):
                z = tf.matmul(h, params[i]) + params[i + 1]
                h = tf.nn.relu(z) if i + 2 < len(params) else z
            loss = tf.reduce_mean(tf.square(x - 2.0 * h))
        for p, g in zip(params, tape.gradient(loss, params)):
            p.assign_sub(1e-3 * tf.clip_by_value(g, -4.5, 4.5))

    times = []
    for _ in range(2):
        for p, a in zip(params, init):
            p.assign(a)
        start = time.perf_counter()
        for x in inputs:
            step(x)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="keras_speed_"))
    (folder / "bench_nets.py").write_text(textwrap.dedent(USER_MODULE))
    os.chdir(folder)  # model.build imports from the working directory
    sys.path.insert(0, str(folder))
    mlp = ModelConfig(name="mlp", width=16)
    user = ModelConfig(name="keras", build="bench_nets:origin")
    rows = {
        "(a) model=mlp": (time_engine(mlp, args.runs, args.steps), args.runs),
        "(b) model=keras (Sequential)": (
            time_engine(user, args.runs, args.steps),
            args.runs,
        ),
        "(c) tf.function per step, 1 run": (time_per_step(args.steps), 1),
    }
    base = args.runs * args.steps
    print(f"TensorFlow {tf.__version__}; {args.runs} runs x {args.steps} steps a group")
    print(f"{'method':<34}{'first s':>9}{'again s':>9}{'run-steps/s':>13}{'x (c)':>8}")
    per_step = args.steps / rows["(c) tf.function per step, 1 run"][0][1]
    for name, ((first, again), runs) in rows.items():
        speed = runs * args.steps / again
        ratio = speed / per_step
        print(f"{name:<34}{first:>9.2f}{again:>9.2f}{speed:>13,.0f}{ratio:>8.1f}")
    keras_speed = base / rows["(b) model=keras (Sequential)"][0][1]
    mlp_speed = base / rows["(a) model=mlp"][0][1]
    print(f"\nmodel=keras / model=mlp, program reused: {keras_speed / mlp_speed:.2f}")


if __name__ == "__main__":
    main()
