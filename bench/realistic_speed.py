"""Realistic sizes: the signal-propagation grid and a digits grid, end to end.

    python bench/realistic_speed.py [--seeds 20] [--steps 1000] [--digits-steps 2000]
                                    [--grids signal,digits,flops]

(a) task=gaussian model.width=256 depth=11,21 init=scaled
    init.sigma_w2=1.0,1.5,2.0,2.5,3.0 seed=0..N-1, batch 64 (200 runs at --seeds 20);
(b) task=digits depth=2,3,4,6 init=normal,xavier,he_normal optimizer=sgd,adam
    seed=0,1,2,3 (96 runs);
(c) flops: task=gaussian model.width=256 depth=21 seed=0..63, 64 runs x --steps
    steps, batch 64: one program of stacked 256 x 256 matmuls (issue 17's case).

For each: the sweep's wall time (`python -m sweeper -m ...`, report included), its
run-steps/s, the FLOP/s its matmuls amount to, against (1) the per-step `tf.function`
loop of one run of the same net, measured in this process for a few hundred steps and
scaled to the grid (each run paying its trace once, as a job of such a sweep would;
process start-up is not counted), and (2) this CPU's own matmul throughput: a compiled
loop of the same stacked matmul shapes. FLOPs count the forward and backward matmuls
of the training steps only (3 x 2 x batch x in x out per Dense layer and step);
measurement and logging are on top. Times come from time.perf_counter; nothing is
asserted.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

BATCH = 64


def sweep_seconds(overrides: list[str], folder: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sweeper",
            "-m",
            *overrides,
            f"hydra.sweep.dir={folder}",
        ],
        check=True,
        capture_output=True,
        cwd=folder,
    )
    return time.perf_counter() - start


def step_flops(sizes: list[int], batch: int) -> float:
    return sum(6.0 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def per_step_loop(sizes: list[int], steps: int, batch: int) -> tuple[float, float]:
    """One run's plain TF2 step in tf.function (ReLU, MSE, SGD): the seconds of its
    first call (the trace, which a job of such a sweep pays once) and per step after."""
    from sweeper.train._tf import tf

    rng = np.random.default_rng(0)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [tf.Variable(rng.normal(0, (2 / a) ** 0.5, (a, b)).astype("f4"))]
        params += [tf.Variable(np.zeros(b, "f4"))]
    x = tf.constant(rng.normal(size=(batch, sizes[0])).astype("f4"))
    y = tf.constant(rng.normal(size=(batch, sizes[-1])).astype("f4"))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            h = x
            for i in range(0, len(params), 2):
                z = tf.matmul(h, params[i]) + params[i + 1]
                h = tf.nn.relu(z) if i + 2 < len(params) else z
            loss = tf.reduce_mean(tf.square(y - h))
        for p, g in zip(params, tape.gradient(loss, params)):
            p.assign_sub(1e-3 * g)

    start = time.perf_counter()
    step()
    first = time.perf_counter()
    for _ in range(steps):
        step()
    return first - start, (time.perf_counter() - first) / steps


def matmul_flops(runs: int, width: int, batch: int, repeats: int = 50) -> float:
    """FLOP/s of a compiled loop of stacked [runs, batch, w] x [runs, w, w] matmuls."""
    from sweeper.train._tf import tf

    a = tf.random.normal([runs, batch, width])
    w = tf.random.normal([runs, width, width]) / width**0.5

    @tf.function(jit_compile=True)
    def loop(a):
        for _ in range(repeats):
            a = tf.matmul(a, w)
        return a

    loop(a).numpy()
    start = time.perf_counter()
    loop(a).numpy()
    seconds = time.perf_counter() - start
    return repeats * 2.0 * runs * batch * width * width / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--digits-steps", type=int, default=2000)
    parser.add_argument("--baseline-steps", type=int, default=200)
    parser.add_argument("--grids", default="signal,digits,flops")
    args = parser.parse_args()
    seeds = f"seed=range(0,{args.seeds})"
    gaussian = (
        "task=gaussian model.width=256 depth=11,21 init=scaled "
        f"init.sigma_w2=1.0,1.5,2.0,2.5,3.0 {seeds} steps={args.steps}"
    ).split()
    digits = (
        "task=digits depth=2,3,4,6 init=normal,xavier,he_normal optimizer=sgd,adam "
        f"seed=0,1,2,3 steps={args.digits_steps}"
    ).split()
    flops = (
        f"task=gaussian model.width=256 depth=21 seed=range(0,64) steps={args.steps}"
    ).split()
    grids = {
        "signal": (gaussian, [(256, d) for d in (11, 21)], 5 * args.seeds, 256),
        "digits": (digits, [(64, d) for d in (2, 3, 4, 6)], 24, 16),
        "flops": (flops, [(256, 21)], 64, 256),
    }
    print(f"cores: {os.cpu_count()}; batch {BATCH} (gaussian), 32 (digits)")
    for name in args.grids.split(","):
        overrides, nets, runs_per_net, width = grids[name]
        gaussian_task = name != "digits"
        batch = BATCH if gaussian_task else 32
        steps = args.steps if gaussian_task else args.digits_steps
        shapes = []
        for inputs, depth in nets:
            out = 1 if gaussian_task else 10
            hidden = [width if gaussian_task else 16] * (depth - 1)
            shapes.append([inputs, *hidden, out])
        runs = runs_per_net * len(nets)
        with tempfile.TemporaryDirectory() as folder:
            wall = sweep_seconds(overrides, folder)
        flops = sum(runs_per_net * steps * step_flops(s, batch) for s in shapes)
        loop_s = 0.0
        for s in shapes:
            trace, per_step = per_step_loop(s, args.baseline_steps, batch)
            loop_s += runs_per_net * (trace + steps * per_step)
        print(f"\n{name}: {runs} runs x {steps:,} steps: {' '.join(overrides)}")
        print(
            f"  sweeper (end to end)     {wall:8.1f} s  {runs * steps / wall:10,.0f}"
            f" run-steps/s  {flops / wall / 1e9:6.2f} GFLOP/s"
        )
        print(
            f"  per-step tf.function     {loop_s:8.1f} s  (one run measured over "
            f"{args.baseline_steps} steps, scaled)  sweeper x {loop_s / wall:.2f}"
        )
        if gaussian_task:
            peak = matmul_flops(runs_per_net, width, batch)
            print(
                f"  matmul loop, same shapes {peak / 1e9:8.2f} GFLOP/s  "
                f"sweeper at {flops / wall / peak:.0%} of it"
            )


if __name__ == "__main__":
    main()
