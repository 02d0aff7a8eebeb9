"""The origin net as a user's Keras Sequential (model=keras) against sweeper's own MLP
and a per-step tf.function loop: run-steps per second, in one process.

    python bench/keras_speed.py [--runs 32] [--steps 2000]

(a) model=mlp and (b) model=keras train `--runs` seeds of the origin 3-layer net
(1 -> 16 ReLU -> 16 ReLU -> 1, Normal(0, 1e-3), SGD lr 1e-3, clip by value 4.5, the
identity task, logged every 100 steps) as one compiled group each; (c) one run of the
same net in a Python loop of a `tf.function` step, engine_speed.py's baseline, timed
over all its steps (the faster of two passes). (a) and (b) are timed twice with
`time.perf_counter`: the first call (trace and compile included) and a second call on
other seeds (the program reused). Prints run-steps/s and the
ratios; asserts nothing.
"""

import argparse
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import engine_speed  # bench/engine_speed.py, beside this script: its baseline loop
from sweeper.config.schema import Config, ModelConfig
from sweeper.train import engine

import tensorflow as tf

INIT = engine_speed.ORIGIN_INIT
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


def time_per_step(steps: int) -> float:
    """One run in a Python loop over a tf.function step (engine_speed.py's baseline,
    the same net and data): seconds of its faster of two passes, the trace reused."""
    seconds, _ = engine_speed.time_loop(True, steps, repeats=2)
    return seconds


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
    rows = {  # name -> (first call s or None, program reused s, runs)
        "(a) model=mlp": (*time_engine(mlp, args.runs, args.steps), args.runs),
        "(b) model=keras (Sequential)": (
            *time_engine(user, args.runs, args.steps),
            args.runs,
        ),
        "(c) tf.function per step, 1 run": (None, time_per_step(args.steps), 1),
    }
    print(f"TensorFlow {tf.__version__}; {args.runs} runs x {args.steps} steps a group")
    print(f"{'method':<34}{'first s':>9}{'again s':>9}{'run-steps/s':>13}{'x (c)':>8}")
    speeds = {
        name: runs * args.steps / again for name, (_, again, runs) in rows.items()
    }
    per_step = speeds["(c) tf.function per step, 1 run"]
    for name, (first, again, _) in rows.items():
        shown = "-" if first is None else f"{first:.2f}"
        ratio = speeds[name] / per_step
        print(f"{name:<34}{shown:>9}{again:>9.2f}{speeds[name]:>13,.0f}{ratio:>8.1f}")
    ratio = speeds["(b) model=keras (Sequential)"] / speeds["(a) model=mlp"]
    print(f"\nmodel=keras / model=mlp, program reused: {ratio:.2f}")


if __name__ == "__main__":
    main()
