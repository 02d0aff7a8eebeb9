"""The report's words: what was swept, and each verdict explained with its figures."""

from urllib.parse import quote

import numpy as np
import pandas as pd

from sweeper.config.options import OPTIMIZERS
from sweeper.config.schema import SWEEP_KEYS
from sweeper.record.verdict import FLAGS, VERDICTS
from sweeper.report import (
    analysis,
    answer,
    failures,
    mean_field,
    plots,
    stories,
)
from sweeper.report.factors import depth_factors
from sweeper.report.numbers import num, sci


def write(doc, runs, incomplete, metrics, figures, left_out, changes, settings) -> None:
    """The report's sections, in reading order; `left_out`: job dirs of the folder
    that this report does not cover (another command's); `changes`: the measured
    single changes of the failing settings, `settings`: the settings table they
    were found in (report/fixes.py)."""
    keys = analysis.swept_keys(runs) if len(runs) > 1 else []
    names = dict(zip(runs["job"], analysis.labels(runs)))
    doc.heading(1, "Gradient sweep report")
    answer.write(doc, runs, changes, settings)
    doc.heading(2, "What was swept")
    steps = metrics.groupby("job")["step"].max()  # the last row is step == steps
    span = "" if steps.empty else f", {steps.max()} steps{' each' * (len(runs) > 1)}"
    if not steps.empty and steps.min() != steps.max():
        span = f", {steps.min()} to {steps.max()} steps"
    lines = [f"{len(runs)} run{'s' * (len(runs) != 1)}{span}."]
    for key in keys:
        values = [analysis.cli_text(runs, key, v) for v in plots.levels(runs[key])]
        lines.append(["Swept ", ("code", key), ": " + ", ".join(values) + "."])
    fixed = _fixed_settings(runs, keys)
    if fixed:
        same = "Fixed for every run" if len(runs) > 1 else "Settings"
        lines.append([f"{same} (as overrides): ", ("code", fixed)])
    commands = runs["command"].dropna().unique() if "command" in runs else []
    if len(commands):
        lines.append(["Command: ", ("code", commands[0])])
        if len(commands) > 1:  # e.g. resumed with resume=true, or runs added later
            lines.append(f"({len(commands)} commands wrote these runs; the first.)")
    versions = runs["sweeper_version"].dropna().unique() if len(commands) else []
    if len(versions):
        lines.append(f"sweeper {', '.join(map(str, versions))}.")
    random = runs.get("config/task.targets", pd.Series(dtype=object)) == "random"
    if random.any():
        lines.append(
            f"{'All' if random.all() else int(random.sum())} of these runs train on "
            "random targets (task.targets=random: drawn independently of the inputs), "
            "so there is nothing to learn: their loss cannot fall below the baseline, "
            "and what they show is how the gradients flow, at initialization above all."
        )
    counts = runs["verdict"].value_counts().items()
    lines.append("Verdicts: " + ", ".join(f"{n} {v}" for v, n in counts) + ".")
    if left_out:
        lines.append(left_out_line(left_out))
    doc.items(lines)
    doc.heading(2, "Verdicts")
    doc.table(*_verdict_table(runs, keys))
    doc.para(["Every figure of every run: ", ("a", "summary.csv", "summary.csv"), "."])
    doc.heading(2, "What went wrong, and what is healthy")
    doc.para(
        "Per setting, over its seeds: the median figure and its range, and how many "
        "seeds agree on the verdict. The signal is the per-example back-propagated "
        "dL/dz, in decades (powers of 10) from the readout back to the first layer."
    )
    settings = stories.by_setting(runs[runs["status"] != "failed"])
    verdicts = {label: stories.commonest(group["verdict"]) for label, group in settings}
    for verdict in [v for v in VERDICTS if v not in ("healthy", "failed")]:
        mine = [
            (label, group) for label, group in settings if verdicts[label] == verdict
        ]
        if mine:
            doc.heading(3, verdict)
            doc.para(stories.MEANING[verdict])
            doc.items([stories.setting_story(label, group) for label, group in mine])
    good = [(label, group) for label, group in settings if verdicts[label] == "healthy"]
    doc.heading(3, "healthy")
    doc.para(stories.MEANING["healthy"] if good else "No setting is healthy.")
    doc.items([stories.setting_story(label, group) for label, group in good])
    factors = depth_factors(runs)
    if not factors.empty:
        doc.heading(2, "Effect of depth")
        doc.items([_depth_line(row) for row in factors.itertuples()])
    mean_field.write(doc, runs)
    header, rows = failures.table(runs, names)
    if rows:
        doc.heading(2, "Failed and diverged runs")
        doc.table(header, rows)
    damaged = {job: why for job, why in incomplete.items() if why.startswith("damaged")}
    unfinished = {job: why for job, why in incomplete.items() if job not in damaged}
    if damaged:
        doc.heading(2, "Damaged runs")
        doc.para(
            [
                "Their files are not as sweeper writes them, so nothing above uses "
                "them; ",
                ("code", "resume=true"),
                " trains them again.",
            ]
        )
        doc.items([[f"job {job}: ", ("code", why)] for job, why in damaged.items()])
    if unfinished:
        doc.heading(2, "Incomplete runs")
        doc.items([f"job {job}: {why}" for job, why in unfinished.items()])
    doc.heading(2, "Figures")
    for name, caption in figures:
        doc.image(name, caption)


def left_out_line(jobs: list[str], most: int = 10) -> str:
    """One line naming the folder's job dirs that a command's report leaves out."""
    names = ", ".join(jobs[:most]) + (
        f" and {len(jobs) - most} more" if len(jobs) > most else ""
    )
    return (
        f"Not in this report: {len(jobs)} job dir{'s' * (len(jobs) != 1)} of an "
        f"earlier command in this folder ({names}); python -m sweeper.report "
        "on the folder reports every run in it."
    )


def terminal_lines(runs: pd.DataFrame, most: int = 5) -> list[str]:
    """What the terminal says when a sweep ends: verdict counts and the settings that
    are not healthy (up to `most` per verdict); for one run, its verdict explained."""
    if len(runs) == 1:
        run = runs.iloc[0]
        if run["verdict"] == "failed":
            return [f"failed: {run['error']}"]
        story = stories.setting_story("this run", runs, alone=True)
        return [story.removeprefix("this run: ")]
    counts = runs["verdict"].value_counts()
    lines = [f"{len(runs)} runs: " + ", ".join(f"{n} {v}" for v, n in counts.items())]
    labels = analysis.setting_labels(runs)
    for verdict in counts.index:
        if verdict == "healthy":
            continue
        settings = list(dict.fromkeys(labels[runs["verdict"] == verdict]))
        more = f", and {len(settings) - most} more" if len(settings) > most else ""
        lines.append(f"{verdict}: " + "; ".join(settings[:most]) + more)
    return lines


def _fixed_settings(runs: pd.DataFrame, keys: list) -> str:
    """Every resolved setting that all runs share and no swept key sets, as the
    overrides that would set it: `optimizer=sgd optimizer.lr=0.001 ...`."""
    parts, used = [], ()  # the optimizer constants the (one) optimizer reads
    optimizer = runs.get(f"{analysis.CONFIG}optimizer.name")
    if optimizer is not None and optimizer.nunique() == 1:
        used = getattr(OPTIMIZERS.get(optimizer.iloc[0]), "hyperparams", ())
    for column in [c for c in runs.columns if c.startswith(analysis.CONFIG)]:
        key = column.removeprefix(analysis.CONFIG)
        group, _, name = key.rpartition(".")
        values = runs[column]
        if key in keys or group in keys or key in SWEEP_KEYS:
            continue  # swept, or a setting of a swept group's options
        if values.nunique(dropna=False) > 1 or values.isna().all():
            continue  # varies with a swept setting, or unset
        value = values.iloc[0]
        if group == "optimizer" and name != "name" and name not in used:
            continue  # a constant the run's optimizer does not read
        if key.startswith("model.settings."):  # a Keras model's own knob: added
            key = "+model." + key.removeprefix("model.settings.")
        parts.append(f"{group}={value}" if name == "name" else f"{key}={_cli(value)}")
    return " ".join(parts)


def _cli(value) -> str:
    """A setting's value as Hydra reads it from the command line."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def _verdict_table(runs, keys) -> tuple[list, list]:
    header = [
        "job",
        *keys,
        "verdict",
        "flags",
        "outcome",
        "final loss (constant's)",
        "signal at init (decades)",
        "first-layer grad std at init",
        "files",
    ]
    rows = []
    for _, r in runs.iterrows():
        job, verdict = r["job"], r["verdict"]
        rows.append(
            [
                job,
                *[analysis.cli_text(runs, k, r[k]) for k in keys],
                [verdict if verdict == "healthy" else ("b", verdict)],
                ", ".join(f for f in FLAGS if r[f]) or "-",
                r["outcome"] if isinstance(r.get("outcome"), str) else "-",
                f"{sci(r['final_loss'])} ({sci(r['baseline_loss'])})",
                f"{r['signal_decades']:+.1f}"
                if np.isfinite(r["signal_decades"])
                else "n/a",
                sci(r["first_grad_std_init"]),
                [
                    ("a", "metrics.csv", f"{quote(job)}/metrics.csv"),
                    " ",
                    ("a", "run.json", f"{quote(job)}/run.json"),
                ],
            ]
        )
    return header, rows


def _depth_line(row) -> str:
    """A depth factor over seeds: the ratio of geometric means, with its interval."""
    ratio = row.factor if row.factor >= 1 else 1 / row.factor
    way = "lower" if row.factor >= 1 else "higher"
    if not 0 < ratio < np.inf:  # one of the two is exactly zero: no ratio to give
        change = "no finite factor: one of them is exactly zero"
    elif np.isfinite(row.low_bound):
        bounds = sorted([row.low_bound, row.high_bound])
        if row.factor < 1:
            bounds = sorted(1 / b for b in bounds)
        change = (
            f"a factor of {num(ratio)} {way} (95% interval {num(bounds[0])} to "
            f"{num(bounds[1])}; {row.n_low} and {row.n_high} seeds)"
        )
    else:
        change = f"a factor of {num(ratio)} {way} (one seed)"
    return (
        f"{row.others + ': ' if row.others else ''}first-layer weight-gradient std at "
        f"initialization (first batch): depth={row.low} {sci(row.value_low)} vs "
        f"depth={row.high} {sci(row.value_high)}, {change}"
    )
