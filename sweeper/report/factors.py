"""How a figure changes between runs that differ only in depth, over their seeds."""

import numpy as np
import pandas as pd

from sweeper.report.analysis import REPLICATES, labels, swept_keys


def depth_factors(
    runs: pd.DataFrame, value: str = "first_grad_std_init", key: str = "depth"
) -> pd.DataFrame:
    """Ratios of a figure between runs that differ only in depth, over their seeds.

    Parameters
    ----------
    runs
        A table from `load_runs`.
    value
        The figure to compare: positive, compared on a log scale.
    key
        The settings key to step along.

    Returns
    -------
    pd.DataFrame
        One row per pair of neighbouring `key` values with all other swept keys equal:
        `others` (those settings as text), `low`, `high` (the two key values),
        `value_low`, `value_high` (geometric means over seeds), `factor` =
        value_low / value_high, its 95% interval `low_bound`, `high_bound` (Welch's t
        on the log values; NaN with one seed on either side) and the seed counts
        `n_low`, `n_high`. Empty when `key` is not swept.
    """
    columns = ["others", "low", "high", "value_low", "value_high", "factor"]
    columns += ["low_bound", "high_bound", "n_low", "n_high"]
    keys = swept_keys(runs)
    if key not in keys or len(runs) < 2:
        return pd.DataFrame(columns=columns)
    others = [k for k in keys if k != key and k not in REPLICATES]
    rows = []
    valid = runs[np.isfinite(runs[value]) & (runs[value] >= 0)]
    groups = valid.groupby(others, sort=False, dropna=False) if others else [(0, valid)]
    for _, group in groups:
        by_key = sorted(group.groupby(key)[value], key=lambda item: item[0])
        label = labels(group, others).iloc[0] if others else ""
        for (low, a), (high, b) in zip(by_key, by_key[1:]):
            rows.append([label, low, high, *_log_ratio(a.to_numpy(), b.to_numpy())])
    return pd.DataFrame(rows, columns=columns)


def _log_ratio(a: np.ndarray, b: np.ndarray) -> list:
    """Geometric means of a and b, their ratio, its 95% interval, the counts."""
    from scipy import stats  # scikit-learn's dependency; only the report needs it

    with np.errstate(divide="ignore", invalid="ignore"):
        la, lb = np.log10(a), np.log10(b)
    mean_a, mean_b = 10 ** la.mean(), 10 ** lb.mean()
    factor = mean_a / mean_b if mean_b else float("inf")
    bounds = [float("nan")] * 2
    finite = np.isfinite(la).all() and np.isfinite(lb).all()
    if len(a) > 1 and len(b) > 1 and finite:
        va, vb = la.var(ddof=1) / len(a), lb.var(ddof=1) / len(b)
        se = np.sqrt(va + vb)
        dof = (
            (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se else 1
        )
        half = stats.t.ppf(0.975, dof) * se
        bounds = [factor / 10**half, factor * 10**half]
    return [mean_a, mean_b, factor, *bounds, len(a), len(b)]
