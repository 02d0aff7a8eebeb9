"""The report's "Theory beside measurement" section: the per-example signal's slope at
initialization against the mean-field prediction (sweeper.theory), over seeds."""

import numpy as np
import pandas as pd

from sweeper.report import analysis

# Measured and predicted disagree when the prediction lies outside the seeds' range
# and the median is further from it than this (decades per layer): finite width and
# the draw of the weights scatter a measured slope by a few hundredths.
DISAGREE = 0.05


def write(doc, runs: pd.DataFrame) -> None:
    """The section: the table where the theory describes a run's net, and why it
    does not where it does not."""
    if "theory_phase" not in runs or runs[["theory_phase", "theory_why"]].isna().all(
        axis=None
    ):
        return  # records of a version without theory
    applies = runs[runs["theory_phase"].notna() & runs["signal_slope"].notna()]
    doc.heading(2, "Theory beside measurement")
    if applies.empty:  # e.g. residual nets, or nets of one hidden layer
        doc.para(
            "No run here has both a mean-field prediction and a measured slope (a "
            "slope needs two hidden layers or more)."
        )
        _not_applying(doc, runs)
        return
    doc.para(
        "The per-example back-propagated signal at initialization (step 0), its slope "
        "in decades per hidden layer going back from the top one (negative: it "
        "shrinks), measured (median over seeds, with their range) and as mean-field "
        "theory predicts it for an infinitely wide net with these weight and bias "
        "variances (Poole et al. 2016, Schoenholz et al. 2017). The theory does not "
        "describe residual or normalized nets, constant biases, or a net after "
        "training has moved its weights; it predicts per-example figures, which is "
        "why the measured ones are too (a batch's gradient also carries the "
        "correlations between its examples)."
    )
    rows, disagree = [], 0
    labels = analysis.setting_labels(runs).loc[applies.index]
    for label, group in applies.groupby(labels, sort=False):
        measured = group["signal_slope"].to_numpy(float)
        predicted = float(group["theory_slope"].iloc[0])
        low, high, median = measured.min(), measured.max(), np.median(measured)
        off = bool(abs(median - predicted) > DISAGREE and not low <= predicted <= high)
        disagree += int(off)
        seeds = f"{len(measured)} seed{'s' * (len(measured) != 1)}"
        spread = (
            f"{median:+.3f} [{low:+.3f}, {high:+.3f}]"
            if len(measured) > 1
            else (f"{median:+.3f} (one seed)")
        )
        rows.append(
            [
                label,
                seeds,
                spread,
                f"{predicted:+.3f}",
                str(group["theory_phase"].iloc[0]),
                "disagree" if off else "agree",
            ]
        )
    header = ["setting", "seeds", "measured / layer", "predicted / layer", "phase", ""]
    doc.table(header, rows)
    if disagree:
        doc.para(
            f"{disagree} setting{'s' * (disagree != 1)} "
            f"disagree{'s' * (disagree == 1)} beyond the seeds' "
            f"range and {DISAGREE} decades per layer: a narrow net, a batch effect or "
            "an input far from the theory's assumptions."
        )
    _not_applying(doc, runs)


def _not_applying(doc, runs: pd.DataFrame) -> None:
    reasons = runs.loc[runs["theory_phase"].isna(), "theory_why"].dropna()
    if len(reasons):
        counts = reasons.value_counts()
        doc.para(
            "No prediction for "
            + "; ".join(f"{n} run{'s' * (n != 1)}: {why}" for why, n in counts.items())
            + "."
        )
