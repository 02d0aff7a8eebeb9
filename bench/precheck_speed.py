"""Time the check of every swept value (sweeper.cli.preflight.check) on big grids.

    python bench/precheck_speed.py

Each case runs in a fresh process, timed around `preflight.check` alone with
`time.perf_counter` (Python's and Hydra's imports excluded), twice: as sweeper runs it
(each distinct value of a plain key checked on a copy of one composed config) and with
SWEEPER_PUBLIC_HYDRA=1 (Hydra's public path: one full composition per distinct value),
the baseline, in the same run.
"""

import json
import os
import subprocess
import sys

CASES = {
    "2,000-job grid": ["depth=2,3,4,5", "init=normal,xavier", "seed=range(0,250)"],
    "2,000 jobs, a bad value last": [
        "depth=2,3,4,5",
        "init=normal,xavier",
        "seed=range(0,250)",
        "optimizer.lr=1e-3,bad",
    ],
    "origin grid (4 jobs)": ["init=normal,xavier", "depth=2,3"],
}
CHILD = """
import json, sys, time
from sweeper.cli import preflight
from sweeper.config.checks import ConfigError
start = time.perf_counter()
try:
    preflight.check(json.loads(sys.argv[1]), True)
    outcome = "ok"
except ConfigError as exc:
    outcome = str(exc)
print(json.dumps([time.perf_counter() - start, outcome]))
"""


def timed(overrides: list[str], public: bool) -> tuple[float, str]:
    env = {**os.environ, "SWEEPER_PUBLIC_HYDRA": "1" if public else "0"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(overrides)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, outcome = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds, outcome


def main() -> None:
    print(f"{'case':32} {'sweeper s':>10} {'public s':>10} {'ratio':>7}  outcome")
    for name, overrides in CASES.items():
        ours, outcome = timed(overrides, public=False)
        theirs, same = timed(overrides, public=True)
        assert outcome == same, (outcome, same)
        print(f"{name:32} {ours:10.2f} {theirs:10.2f} {theirs / ours:7.1f}  {outcome}")


if __name__ == "__main__":
    main()
