"""Would runs that differ only in depth pay to share one program? A bound, measured.

    python bench/depth_sharing.py [--runs 64] [--steps 10000]

A shared program for depths d_1 < ... < d_k carries every run through d_k layers (a
shallower run's extra layers pass its signal through unchanged, but their matmuls
still run), so it costs at least what one program of depth d_k costs for all the
runs. This times, in one process with the compile cache off, the big grid's
depths (2, 3, 4, 6) with `--runs` runs each (the grid's init, optimizer, clip and seed
mix), cold (trace and XLA compile included) and again (the program reused):

  per depth: one program per depth, the groups one after another (sweeper today);
  shared, lower bound: all the runs in one program of the deepest depth.

A shared program pays only if its bound beats one program per depth. Wall seconds
from time.perf_counter; nothing is asserted.
"""

import argparse
import itertools
import os
import time

os.environ["SWEEPER_COMPILE_CACHE"] = "off"  # every first call compiles

from sweeper.config.schema import ClipConfig, Config, InitConfig, OptimizerConfig  # noqa: E402
from sweeper.train import lean  # noqa: E402

DEPTHS = (2, 3, 4, 6)
MIX = list(
    itertools.product(["normal", "xavier", "he_normal", "orthogonal"], ["sgd", "adam"])
)


def configs(depth: int, runs: int, steps: int, seed0: int) -> list[Config]:
    out = []
    for i in range(runs):
        init, optimizer = MIX[i % len(MIX)]
        clip = ("value", "global_norm")[(i // len(MIX)) % 2]
        out.append(
            Config(
                depth=depth,
                init=InitConfig(name=init),
                optimizer=OptimizerConfig(name=optimizer),
                clip=ClipConfig(name=clip),
                seed=seed0 + i,
                steps=steps,
            )
        )
    return out


def timed(engine, groups: list[list[Config]]) -> float:
    start = time.perf_counter()
    for cfgs in groups:
        engine.train(cfgs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=64, help="runs per depth")
    parser.add_argument("--steps", type=int, default=10_000)
    args = parser.parse_args()
    engine = lean.engine()
    rows = {}
    for label, depths in [("per depth", DEPTHS), ("shared, lower bound", None)]:
        times = []
        for seed0 in (0, 10_000):  # cold, then again with new seeds
            if depths:
                groups = [configs(d, args.runs, args.steps, seed0) for d in depths]
            else:
                runs = args.runs * len(DEPTHS)
                groups = [configs(max(DEPTHS), runs, args.steps, seed0)]
            times.append(timed(engine, groups))
        rows[label] = times
    print(f"depths {DEPTHS}, {args.runs} runs each, {args.steps:,} steps, one process")
    print(f"{'':24}{'cold s':>10}{'again s':>10}")
    for label, (cold, again) in rows.items():
        print(f"{label:24}{cold:10.2f}{again:10.2f}")
    (pc, pa), (sc, sa) = rows.values()
    print(f"shared / per depth: cold {sc / pc:.2f}, again {sa / pa:.2f} (> 1: no gain)")


if __name__ == "__main__":
    main()
