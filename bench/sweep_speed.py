"""Time whole sweeps: sweeper's per-job and batched launchers against plain TF2 loops.

    python bench/sweep_speed.py [--grid default|big|both] [--baseline-runs 2]
                                [--baseline-steps 1000] [--skip a|e|ae]

(a), (b) and (e) (batched on one worker process) run the real CLI as subprocesses,
timed from process start to exit (the report is written just before exit). (c) and (d)
train a subset of the same grid's runs with plain TF2 loops in one subprocess, as a
Hydra basic sweep of a typical training script would (TF imported once, each job
builds its own variables, optimizer and loop), and are extrapolated to the whole grid.
Each sweeper row starts with an empty compile cache of its own (SWEEPER_CACHE_DIR),
except (f), which repeats (b) with the cache (b) filled; (g) is a bare
`python -c "import tensorflow"`, the floor of any sweep's wall time.
Times are wall seconds from `time.perf_counter`.
"""

import argparse
import importlib.metadata
import itertools
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

PACKAGES = ["tensorflow", "keras", "hydra-core"]  # versions printed with the results
STEPS = 10_000  # steps per run: conf/config.yaml's default, used by both grids
GRIDS = {
    "default": "init=normal,xavier depth=2,3".split(),  # the origin sweep
    "big": "depth=2,3,4,6 init=normal,xavier,he_normal,orthogonal optimizer=sgd,adam "
    "clip=value,global_norm seed=0,1,2,3".split(),
}
NOTES = """\
All processes run TF with one intra- and one inter-op thread (sweeper.train._tf).
wall: process start to exit; a sweep writes its report just before it exits.
max RSS: /usr/bin/time -v's "Maximum resident set size": the largest single process
  among the command and the children it waited for (Linux ru_maxrss), not a sum.
sum RSS: peak of the summed RSS of the whole process tree, sampled from /proc every
  0.2 s (psutil is not installed; pages shared between processes count in each).
others: CPU time used by other processes on the machine during the row, as a share
  of all cores (machine busy time from /proc/stat minus /usr/bin/time's user+sys).
  Before each row the script waits (up to --quiet-wait s) for 2 s of < 10% CPU use.
sweeper also measures gradients every 100 steps and writes per-run files and a
report; the loops (c) and (d) only train."""


def jobs_of(grid: list[str]) -> list[list[str]]:
    """Every job's overrides, in Hydra's basic-sweeper order (last key fastest)."""
    axes = []
    for arg in grid:
        key, values = arg.split("=")
        axes.append([f"{key}={value}" for value in values.split(",")])
    return [list(job) for job in itertools.product(*axes)]


def tree_rss_mb(root: int) -> float:
    """Summed resident memory of `root` and all its descendants, read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
        children.setdefault(ppid, []).append(int(stat.parent.name))
    pages, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot, from /proc/stat."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split()[1:9]]
    user, nice, system, _, _, irq, softirq, steal = ticks  # idle, iowait left out
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(limit: float) -> float:
    """Wait up to `limit` s for 2 s in which the machine's CPUs are < 10% busy."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        busy = busy_cpu_seconds()
        time.sleep(2)
        if busy_cpu_seconds() - busy < 0.1 * 2 * os.cpu_count():
            break
    return time.perf_counter() - start


def measure(cmd: list[str], log: Path, env: dict | None = None) -> dict:
    """Run `cmd` under /usr/bin/time -v: wall seconds, peak RSS (largest process and
    sampled tree sum, MB), other processes' share of the CPUs, its stdout's end."""
    peak, stop = [0.0], threading.Event()
    busy, start = busy_cpu_seconds(), time.perf_counter()
    with open(log, "w") as out, open(log.with_suffix(".err"), "w") as err:
        proc = subprocess.Popen(
            ["/usr/bin/time", "-v", *cmd], stdout=out, stderr=err, env=env
        )

        def sample() -> None:
            while not stop.wait(0.2):  # seconds between samples
                peak[0] = max(peak[0], tree_rss_mb(proc.pid))

        sampler = threading.Thread(target=sample)
        sampler.start()
        proc.wait()
        wall, busy = time.perf_counter() - start, busy_cpu_seconds() - busy
        stop.set()
        sampler.join()
    report = log.with_suffix(".err").read_text()
    if proc.returncode:
        sys.exit(f"failed: {shlex.join(cmd)}\n{report[-2000:]}")

    def field(name: str) -> float:
        return float(re.search(rf"{name}.*: ([\d.]+)", report).group(1))

    ours = field("User time") + field("System time")  # includes waited-for children
    return {
        "wall": wall,
        "max_mb": field("Maximum resident set size") / 1024,  # reported in kB
        "sum_mb": peak[0],
        "others": max(busy - ours, 0.0) / (wall * os.cpu_count()),
        "last": (log.read_text().splitlines() or [""])[-1],
    }


def plain_run(cfg, compiled: bool) -> dict:
    """Train one run with a plain TF2 loop on tf.Variables and a Keras optimizer."""
    import keras

    from sweeper.train._tf import tf
    from sweeper.train.activations import OPS
    from sweeper.train.components import model_of, task_of

    start = time.perf_counter()
    task = task_of(cfg)
    init = model_of(cfg, task).initial_params(cfg.init, cfg.seed)
    params = [tf.Variable(array) for array in init]
    data = task.training_data(cfg.steps, cfg.seed)[0][: cfg.steps]
    inputs = tf.unstack(tf.constant(data))
    act = OPS[cfg.model.activation]
    opt, t = cfg.optimizer, cfg.clip.threshold
    if opt.name == "sgd":
        optimizer = keras.optimizers.SGD(opt.lr)
    elif opt.name == "adam":
        optimizer = keras.optimizers.Adam(opt.lr, opt.beta_1, opt.beta_2, opt.epsilon)
    else:
        raise ValueError(f"no baseline for optimizer={opt.name}")
    optimizer.build(params)
    clip = {
        "none": lambda gs: gs,
        "value": lambda gs: [tf.clip_by_value(g, -t, t) for g in gs],
        "norm": lambda gs: [tf.clip_by_norm(g, t) for g in gs],
        "global_norm": lambda gs: tf.clip_by_global_norm(gs, t)[0],
    }[cfg.clip.name]

    def estimate(x):
        h = x
        for i in range(0, len(params), 2):
            z = tf.matmul(h, params[i]) + params[i + 1]
            h = act(z) if i + 2 < len(params) else z
        return cfg.task.output_scale * h

    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(x - estimate(x)))  # the identity task
        optimizer.apply_gradients(zip(clip(tape.gradient(loss, params)), params))

    step = tf.function(step) if compiled else step
    built = time.perf_counter()
    step(inputs[0])  # tf.function: the trace happens here, once per job
    first = time.perf_counter()
    for x in inputs[1:]:
        step(x)
    end = time.perf_counter()
    probe, target = (tf.constant(part) for part in task.probe())
    probe_loss = tf.reduce_mean(tf.square(target - estimate(probe)))
    return {
        "build": built - start,
        "first": first - built,
        "rest": end - first,
        "probe_loss": float(probe_loss),
    }


def child(loop: str, steps: int, jobs: list[list[str]]) -> None:
    """Baseline process: compose each job's config as Hydra would, train, print JSON."""
    import sweeper.train._tf  # noqa: F401  (TF first, with sweeper's thread settings)
    from hydra import compose, initialize_config_module

    from sweeper.cli import preflight

    runs = []
    with initialize_config_module(preflight.CONF_MODULE, version_base="1.3"):
        for job in jobs:
            start = time.perf_counter()
            cfg = preflight.typed(compose("config", overrides=[*job, f"steps={steps}"]))
            composed = time.perf_counter()
            runs.append(plain_run(cfg, compiled=loop == "tf.function"))
            runs[-1]["build"] += composed - start  # a Hydra job composes its config too
    print(json.dumps(runs))


def extrapolate(res: dict, runs: int, n_steps: int) -> tuple[float, str]:
    """Whole-grid seconds of a baseline measured on a subset, and how they were got."""
    done = json.loads(res["last"])
    startup = res["wall"] - sum(r["build"] + r["first"] + r["rest"] for r in done)
    scale = (STEPS - 1) / (n_steps - 1)  # steps after the first: full over measured
    per_run = sum(r["build"] + r["first"] + r["rest"] * scale for r in done) / len(done)
    setup = sum(r["build"] + r["first"] for r in done) / len(done)
    ms_step = 1e3 * sum(r["rest"] for r in done) / len(done) / (n_steps - 1)
    note = (
        f"measured {len(done)} runs x {n_steps:,} steps in {res['wall']:.1f} s: "
        f"start-up {startup:.1f} s (Python, TF, Keras, Hydra imports); per run at "
        f"{STEPS:,} steps {per_run:.2f} s (build + first step {setup:.2f} s, then "
        f"{ms_step:.3f} ms/step) -> {startup:.1f} + {runs} x {per_run:.2f} s"
    )
    return startup + runs * per_run, note


def sweeper_probe_loss(sweep_dir: Path, job: list[str], step: int) -> float:
    """A job's probe loss after `step` updates, from sweeper's own metrics.csv."""
    wanted = dict(o.split("=") for o in job)
    for run_file in sweep_dir.glob("*/run.json"):
        if json.loads(run_file.read_text())["settings"] == wanted:
            metrics = pd.read_csv(run_file.parent / "metrics.csv")
            return float(metrics.loc[metrics.step == step, "probe_loss"].iloc[0])
    return float("nan")


def report_seconds(sweep_dir: Path) -> float:
    """A sweep's report time: from the last file any job wrote to report.html (the
    report is the last thing a sweep writes; its jobs' files all come before)."""
    jobs = [d for d in sweep_dir.iterdir() if d.is_dir() and d.name != ".hydra"]
    last = max(p.stat().st_mtime for d in jobs for p in d.rglob("*") if p.is_file())
    return (sweep_dir / "report.html").stat().st_mtime - last


COLUMNS = [  # header, row key, format
    ("method", "method", ""),
    ("wall s", "wall", ".1f"),
    ("run-steps/s", "rate", ",.0f"),  # runs x steps / wall seconds
    ("batched x", "ratio", ".2f"),  # batched run-steps/s over the row's
    ("max RSS MB", "max_mb", ",.0f"),
    ("sum RSS MB", "sum_mb", ",.0f"),
    ("others", "others", ".0%"),
]


def cells(row: dict) -> list[str]:
    """One table row's cells, in the order of COLUMNS."""
    return [format(row[key], fmt) for _, key, fmt in COLUMNS]


def bench_grid(name: str, args: argparse.Namespace, tmp: Path) -> list[dict]:
    """Run and print one grid's five methods; return the table rows."""
    grid, py, jobs = GRIDS[name], sys.executable, jobs_of(GRIDS[name])
    n_sub, n_steps = args.baseline_runs, args.baseline_steps
    runs = len(jobs)
    picks = sorted({round(i * (runs - 1) / max(n_sub - 1, 1)) for i in range(n_sub)})
    subset = [jobs[i] for i in picks]  # spread over the grid: its first ... last run
    sweep = [py, "-m", "sweeper", "-m", *grid]
    loop = [py, __file__, "--child", str(n_steps), json.dumps(subset)]
    per_job = [*sweep, "hydra/launcher=basic", f"hydra.sweep.dir={tmp}/a"]
    cmds = {
        "(a) per-job (hydra/launcher=basic)": per_job,
        "(b) batched launcher (the default)": [*sweep, f"hydra.sweep.dir={tmp}/b"],
        "(c) eager GradientTape loop": [*loop, "eager"],
        "(d) tf.function-per-step loop": [*loop, "tf.function"],
        # (b) on one worker process: what the parallel groups of (b) gain
        "(e) batched, one worker (workers=1)": [
            *sweep,
            "hydra.launcher.workers=1",
            f"hydra.sweep.dir={tmp}/e",
        ],
    }
    # (b) again with the compile cache (b) filled: a repeated sweep; and TensorFlow's
    # import alone, what no sweep can beat. Every other sweeper row starts cold, with
    # an empty compile cache of its own.
    cmds["(f) (b) repeated (compile cache warm)"] = [*sweep, f"hydra.sweep.dir={tmp}/f"]
    cmds["(g) python -c 'import tensorflow'"] = [py, "-c", "import tensorflow"]
    cmds = {label: cmd for label, cmd in cmds.items() if label[1] not in args.skip}
    caches = {label: tmp / f"cache-{label[1]}" for label in cmds}
    caches["(f) (b) repeated (compile cache warm)"] = caches[
        "(b) batched launcher (the default)"
    ]
    print(f"\n== grid `{name}`: {runs} runs x {STEPS:,} steps: {' '.join(grid)} ==")
    rows, losses = [], {}
    for label, cmd in cmds.items():
        print(f"{label}:\n  /usr/bin/time -v {shlex.join(cmd)}", flush=True)
        waited = wait_for_quiet(args.quiet_wait)
        if waited >= args.quiet_wait:
            print(f"  (CPUs still busy after {waited:.0f} s: measured anyway)")
        elif waited > 2.5:
            print(f"  (waited {waited:.0f} s for quiet CPUs)")
        env = {**os.environ, "SWEEPER_CACHE_DIR": str(caches[label])}
        res = measure(cmd, tmp / f"{label[1]}.log", env)
        if label[1] in "cd":
            losses[label[1]] = [r["probe_loss"] for r in json.loads(res["last"])]
            res["wall"], note = extrapolate(res, runs, n_steps)
            label += ", extrapolated"
            print(f"  {note}")
        rows.append({"grid": f"{name} ({runs} x {STEPS:,})", "method": label, **res})
    wall = {row["method"][1]: row["wall"] for row in rows}
    for row in rows:
        row["rate"] = runs * STEPS / row["wall"]  # run-steps/s
        row["ratio"] = row["wall"] / wall["b"]  # batched run-steps/s over this
    print(f"\n{'method':<44}" + "".join(f"{c:>12}" for c, _, _ in COLUMNS[1:]))
    for row in rows:
        method, *rest = cells(row)
        print(f"{method:<44}" + "".join(f"{c:>12}" for c in rest))
    print("batched x: batched run-steps/s over the row's (> 1 = batched is faster).")
    cold, warm = wall["b"] / wall["g"], wall["f"] / wall["g"]
    print(
        f"Against a bare TensorFlow import ({wall['g']:.1f} s): (b) cold {cold:.2f}x, "
        f"(f) warm {warm:.2f}x. (b) is {wall['d'] / wall['b']:.1f}x faster than (d) "
        f"tf.function-per-step and {wall['c'] / wall['b']:.0f}x than (c) eager."
    )
    reports = {k: report_seconds(tmp / k) for k in "bf" if (tmp / k).is_dir()}
    print(
        f"Report of the {runs} runs (the last job's files to report.html): "
        + ", ".join(f"({k}) {t:.2f} s" for k, t in reports.items())
    )
    print("The extrapolated rows' RSS and others are those of their measured subset.")
    if n_steps % 100 == 0:  # sweeper logs every 100 steps (the default log_every)
        print(f"Same computation? Probe loss after {n_steps:,} updates,")
        print("  sweeper ((b)'s metrics.csv) / eager (c) / tf.function (d):")
        for job, c, d in zip(subset, losses["c"], losses["d"]):
            ours = sweeper_probe_loss(tmp / "b", job, n_steps)
            print(f"  {' '.join(job)}: {ours:.7f} / {c:.7f} / {d:.7f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", choices=["default", "big", "both"], default="both")
    parser.add_argument("--baseline-runs", type=int, default=2, help="runs of (c), (d)")
    parser.add_argument("--baseline-steps", type=int, default=1000, help="their steps")
    parser.add_argument(
        "--quiet-wait", type=float, default=120, help="max s to wait for idle CPUs"
    )
    parser.add_argument(
        "--skip",
        default="",
        choices=["", "a", "e", "ae"],
        help="rows to leave out: (a) per-job and (e) one worker, the slowest, which no "
        "ratio of the acceptance reads",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # steps jobs loop
    args = parser.parse_args()
    if args.child:
        steps, jobs, loop = args.child
        return child(loop, int(steps), json.loads(jobs))
    script_start = time.perf_counter()
    versions = {name: importlib.metadata.version(name) for name in PACKAGES}
    ram_gb = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    print(f"{os.cpu_count()} cores, {ram_gb:.0f} GB RAM, Linux; Python", end=" ")
    print(platform.python_version(), *(f"{n} {v}" for n, v in versions.items()))
    git = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
    )
    print(f"sweeper at git {git.stdout.strip()} (-dirty: uncommitted changes)")
    print(NOTES)
    rows = []
    for name in ["default", "big"] if args.grid == "both" else [args.grid]:
        with tempfile.TemporaryDirectory(prefix=f"sweep_speed_{name}_") as tmp:
            rows += bench_grid(name, args, Path(tmp))
    header = " | ".join(c for c, _, _ in COLUMNS)
    print(
        f"\n| grid (runs x steps) | {header} |\n|---|---|" + "--:|" * (len(COLUMNS) - 1)
    )
    for row in rows:
        print(f"| {row['grid']} | " + " | ".join(cells(row)) + " |")
    print(f"\nWhole script: {time.perf_counter() - script_start:.0f} s")


if __name__ == "__main__":
    main()
