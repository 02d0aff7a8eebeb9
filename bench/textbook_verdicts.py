"""The textbook deep nets and the origin sweep, through the CLI: their verdicts.

    python bench/textbook_verdicts.py [--seeds 3] [--steps 2000] [--out DIR]

Trains, with `python -m sweeper -m`, on task=gaussian with width 256 and 20 hidden
layers (depth=21): sigmoid + xavier, ReLU + lecun_normal, ReLU + he_normal and ReLU
with init=scaled init.sigma_w2=3, then the origin sweep (init=normal,xavier depth=2,3
at its 10,000 steps), each over `--seeds` seeds; prints each setting's verdicts and
outcomes over its seeds, beside what the textbooks say, and the wall time. It asserts
nothing (tests/test_verdict_depths.py holds the rule to the textbooks in the suite).
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

DEEP = "task=gaussian model.width=256 depth=21"
SWEEPS = {  # name -> (overrides, {setting: what a textbook says})
    "sigmoid_xavier": (
        f"{DEEP} model.activation=sigmoid init=xavier",
        {"": "vanishing (Glorot & Bengio 2010)"},
    ),
    "relu_lecun_he": (
        f"{DEEP} model.activation=relu init=lecun_normal,he_normal",
        {
            "init=lecun_normal": "vanishing (He et al. 2015)",
            "init=he_normal": "healthy (He et al. 2015)",
        },
    ),
    "relu_sigma_w2_3": (
        f"{DEEP} model.activation=relu init=scaled init.sigma_w2=3",
        {"": "exploding (chi_1 = 1.5: chaotic)"},
    ),
    "origin": (
        "init=normal,xavier depth=2,3",
        {
            "init=normal depth=2": "healthy (escapes its saddle)",
            "init=normal depth=3": "vanishing (the question)",
            "init=xavier depth=2": "healthy (the answer)",
            "init=xavier depth=3": "healthy (the answer)",
        },
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2000, help="for the deep nets")
    parser.add_argument("--out", type=Path, default=None, help="keep the sweeps here")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="textbook_"))
    seeds = ",".join(map(str, range(args.seeds)))
    rows = []
    for name, (overrides, textbook) in SWEEPS.items():
        folder = out / name
        steps = "" if name == "origin" else f"steps={args.steps}"
        command = f"{overrides} {steps} seed={seeds} hydra.sweep.dir={folder}"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sweeper", "-m", *command.split()],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - start
        table = pd.read_csv(folder / "summary.csv")
        keys = [k for k in table.columns[: table.columns.get_loc("job")] if k != "seed"]
        labels = (
            table[keys]
            .astype(str)
            .apply(lambda r: " ".join(f"{k}={v}" for k, v in r.items()), axis=1)
            if keys
            else pd.Series([""] * len(table))
        )
        for label, group in table.groupby(labels, sort=False):
            rows.append(
                {
                    "sweep": name,
                    "setting": label or "-",
                    "textbook": textbook.get(label, "?"),
                    "verdicts": _counts(group["verdict"]),
                    "outcomes": _counts(group["outcome"]),
                    "signal_decades": _spread(group["signal_decades"]),
                    "seconds": round(seconds),
                }
            )
    with pd.option_context("display.width", 200, "display.max_colwidth", 40):
        print(pd.DataFrame(rows).to_string(index=False))
    print(f"\nsweeps in {out}")


def _counts(values: pd.Series) -> str:
    return ", ".join(f"{n} {v}" for v, n in values.value_counts().items())


def _spread(values: pd.Series) -> str:
    return f"{values.median():+.2f} [{values.min():+.2f}, {values.max():+.2f}]"


if __name__ == "__main__":
    main()
