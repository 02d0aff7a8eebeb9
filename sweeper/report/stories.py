"""Each setting's verdict in words: its figures over seeds, with their spread.

A setting is a combination of swept values other than the seed; its runs are its
seeds. Every figure is the median over them with its range, and says how many seeds
agree on the verdict; a setting of one run says it is one seed.
"""

from collections import Counter

import numpy as np
import pandas as pd

from sweeper.config.schema import VerdictConfig
from sweeper.record import verdict as rules
from sweeper.report import analysis
from sweeper.report.numbers import num

MEANING = {
    "diverged": "The loss became NaN or infinite.",
    "exploding": "The back-propagated signal grows on its way back from the readout, "
    "from initialization on.",
    "unstable": "The gradients were fine at initialization but grew during training, "
    "or the loss climbed far above where it started.",
    "vanishing": "The back-propagated signal shrinks on its way back from the "
    "readout, so the first layers get a small fraction of what the last ones get.",
    "dead": "Many ReLU units never switch on: they pass no signal and get no gradient.",
    "collapsed": "The output ignores the input, so the loss stays near a constant's.",
    "healthy": "None of the conditions above: the signal reaches the first layer at "
    "about the readout's size and keeps it. Whether the net learned is its outcome.",
}


def by_setting(runs: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(label, runs) per setting, in job order of each setting's first run."""
    if runs.empty:
        return []
    names = analysis.setting_labels(runs).to_numpy()
    groups = runs.groupby(names, sort=False).indices  # in order of first appearance
    return [(label, runs.iloc[index]) for label, index in groups.items()]


def commonest(values: pd.Series, order=rules.VERDICTS) -> str:
    """The most common value; a tie goes to the one first in `order` (the worst)."""
    counts = _counts(values)
    tied = [value for value, count in counts if count == counts[0][1]]
    return min(tied, key=lambda v: order.index(v) if v in order else len(order))


def _counts(values) -> list[tuple]:
    """(value, count) as value_counts orders them: most common first, ties in order
    of first appearance; nulls left out."""
    counts = Counter(v for v in values if pd.notna(v))
    return sorted(counts.items(), key=lambda item: -item[1])


def spread(values, digits: int | None = None, signed: bool = False) -> str:
    """Median over seeds and its range, "-3.0 (-3.1 to -2.9)"; a lone value alone.
    `digits`: fixed decimals (else two significant digits); `signed`: with + or -."""
    values = np.asarray(values, float)
    kept = values[~np.isnan(values)]
    if kept.size == 0:
        return "n/a"
    sign = "+" if signed else ""
    show = num if digits is None else (lambda v: f"{v:{sign}.{digits}f}")
    middle = show(float(np.median(kept)))
    low, high = show(float(kept.min())), show(float(kept.max()))
    return middle if low == high else f"{middle} ({low} to {high})"


def thresholds(group: pd.DataFrame) -> VerdictConfig:
    """The verdict thresholds the runs were judged with (the defaults if unrecorded)."""
    if group.empty:
        return VerdictConfig()
    first = group.iloc[0]  # one row, not a column lookup per threshold
    fields = {}
    for name in vars(VerdictConfig()):
        column = f"{analysis.CONFIG}verdict.{name}"
        if column in first.index and pd.notna(first[column]):
            fields[name] = float(first[column])
    return VerdictConfig(**fields)


def setting_story(label: str, group: pd.DataFrame, alone: bool = False) -> str:
    """One setting's verdict in words, with its figures over its seeds; `alone`: the
    only run there is (no "(one seed)" to say)."""
    n, verdict = len(group), commonest(group["verdict"])
    agree = int((group["verdict"] == verdict).sum())
    head = f"{label}: {verdict}" + (
        "" if alone else " (one seed)" if n == 1 else f" in {agree} of {n} seeds"
    )
    verdicts = group["verdict"].to_numpy(object)
    others = _counts(verdicts[verdicts != verdict])
    if others:
        head += " (" + ", ".join(f"{c} {v}" for v, c in others) + ")"
    clauses = [c for c in _physics(group, verdict) if c] + [_outcome(group, verdict)]
    return f"{head} — " + "; ".join(clauses) + "."


def _physics(group: pd.DataFrame, verdict: str) -> list[str]:
    t = thresholds(group)
    clauses = []
    if group["diverged"].any():
        at = group["diverged_at"].dropna().astype(float)
        text = f"its numbers became non-finite at step {spread(at, digits=0)}"
        where = group.get("diverged_in", pd.Series(dtype=object)).dropna()
        if len(where):
            text += f", first in {commonest(where, order=())}"
        clauses.append(text)
    init = _decades(group, "signal_decades")
    if np.isnan(init).all():
        pass  # diverged before a signal could be measured
    elif np.isneginf(init).all():
        clauses.append("the back-propagated signal is exactly zero at the first layer")
    else:
        clauses.append(
            f"at initialization the first layer receives {_factor(np.median(init))} "
            f"the readout's per-example signal ({_signed(init)} "
            f"decades{_slope(group)})"
        )
    early = _decades(group, "signal_decades_early")
    late = _decades(group, "signal_decades_late")
    started = started_vanishing(group, t)
    recovered = started & ~group["vanishing"].to_numpy(bool)
    if verdict == "vanishing":
        clauses.append(f"{_signed(late)} decades over the last tenth of training")
    elif recovered.sum() * 2 > len(group):
        clauses.append(
            f"it started vanishing ({_signed(early)} decades early in training) and "
            f"recovered ({_signed(late)} over its last tenth)"
        )
    drift = group["first_drift_ratio"].to_numpy(float)
    if np.isfinite(drift).any() and _layers(group) > 2:  # else it is 1 by definition
        clauses.append(
            f"the first layer's weights moved {spread(drift)} times as far from their "
            "initial values as the top hidden layer's"
        )
    if verdict == "unstable" or group["unstable"].any():
        peak = _decades(group, "signal_decades_max")
        clauses.append(
            f"during training the signal reached {_signed(peak)} "
            f"decades and the probe loss {spread(group['loss_growth'])} times its "
            "initial value"
        )
    if group["dead"].any():
        clauses.append(
            f"{spread(100 * group['max_dead_frac'], digits=0)}% of a hidden layer's "
            "units never switch on over the probe inputs"
        )
    return clauses


def _outcome(group: pd.DataFrame, verdict: str) -> str:
    outcome = commonest(group["outcome"].fillna("n/a"), rules.OUTCOMES)
    n, agree = len(group), int((group["outcome"] == outcome).sum())
    steps = group.get(f"{analysis.CONFIG}steps")
    after = f" after {num(float(steps.max()))} steps" if steps is not None else ""
    still = "still " if verdict not in ("healthy", "collapsed") else ""
    word = {"learned": f"it {still}learned", "stalled": "it did not learn"}
    text = word.get(outcome, f"it {outcome}")
    if n > 1:
        text += f" ({agree} of {n})"
    loss = group["final_loss"].to_numpy(float)
    text += f": loss {spread(loss)}{after}"
    if outcome == "collapsed":
        text += f", output spread {spread(group['out_spread'])}"
    baseline = num(float(group["baseline_loss"].median()))
    return text + f", against {baseline} for the best constant"


def started_vanishing(group: pd.DataFrame, t: VerdictConfig) -> np.ndarray:
    """Per run, whether its signal was vanishing at initialization and early on
    (record.verdict.started_vanishing), from the runs table's figures."""
    init = _decades(group, "signal_decades")
    early = _decades(group, "signal_decades_early")
    return np.array(
        [
            rules.started_vanishing({"signal_decades": a, "signal_decades_early": b}, t)
            for a, b in zip(init, early)
        ],
        dtype=bool,
    )


def _decades(group: pd.DataFrame, column: str) -> np.ndarray:
    """A signal figure as floats. run.json holds no -inf: a null there is a signal
    that is exactly zero at the first layer (-inf), unless the loss was not finite
    from the first step on (NaN: nothing was measured)."""
    values = group[column].to_numpy(float)
    measured = ~(group["diverged_at"].to_numpy(float) <= 0)  # NaN: never diverged
    return np.where(np.isnan(values) & measured, -np.inf, values)


def _layers(group: pd.DataFrame) -> int:
    """The fewest measured layers of the group's runs: a Keras model's named ones,
    else `depth`."""
    names = group.get("layer_names", pd.Series(dtype=object))
    counts = [len(n.split("|")) for n in names if isinstance(n, str) and n]
    depth = group.get(f"{analysis.CONFIG}depth", pd.Series(dtype=float)).dropna()
    if counts:
        return min(counts)
    return int(depth.min()) if len(depth) else 0


def _signed(decades: np.ndarray) -> str:
    return spread(decades, digits=1, signed=True)


def _factor(decades: float) -> str:
    """10^decades in words: "1/1,000 of", "60 times", "about as much as"."""
    if not np.isfinite(decades):
        return "none of"
    if abs(decades) < 0.3:  # within a factor of 2
        return "about as much as"
    if decades < 0:
        return f"1/{num(10**-decades)} of"
    return f"{num(10**decades)} times"


def _slope(group: pd.DataFrame) -> str:
    """The measured slope, and the mean-field theory's beside it where it applies."""
    slope = group["signal_slope"].to_numpy(float)
    if not np.isfinite(slope).any():
        return ""
    text = f"; {spread(slope, signed=True, digits=2)} per hidden layer"
    predicted = group.get("theory_slope", pd.Series(dtype=float)).dropna()
    if len(predicted) and np.isfinite(float(predicted.iloc[0])):
        phase = group["theory_phase"].dropna().iloc[0]
        text += f", mean-field theory {float(predicted.iloc[0]):+.2f} ({phase} phase)"
    return text
