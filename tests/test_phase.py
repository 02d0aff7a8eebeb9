"""The phase diagram on a hand-made table: cells, seed counts, the critical line."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import integrate, optimize

from sweeper.report import phase

matplotlib.use("Agg")

SIGMA_W2 = [1.0, 1.5, 2.0, 2.5, 3.0]
SIGMA_B2 = [0.0, 0.05, 0.1]


def _runs(activation: str, seeds: int = 2) -> pd.DataFrame:
    """A sweep over both variances: slope = 0.5 log10(sigma_w2 / 2) + noise."""
    rng = np.random.default_rng(0)
    rows = []
    for w2 in SIGMA_W2:
        for b2 in SIGMA_B2:
            for seed in range(seeds):
                rows.append(
                    {
                        "init.sigma_w2": w2,
                        "init.sigma_b2": b2,
                        "seed": seed,
                        "signal_slope": 0.5 * np.log10(w2 / 2) + rng.normal(0, 1e-3),
                        "theory_phase": "ordered",
                        "verdict": "healthy",
                        "config/model.activation": activation,
                    }
                )
    runs = pd.DataFrame(rows)
    runs.attrs["cli_text"] = {k: {} for k in ("init.sigma_w2", "init.sigma_b2", "seed")}
    return runs


def _tanh_critical_sigma_w2(sigma_b2: float) -> float:
    """chi_1 = 1 for tanh by scipy's adaptive quadrature and root finding."""

    def mean(f, q):
        density = lambda z: np.exp(-z * z / 2) / np.sqrt(2 * np.pi)  # noqa: E731
        return integrate.quad(lambda z: f(np.sqrt(q) * z) * density(z), -12, 12)[0]

    def q_star(w2):  # the length map's fixed point, > 0 for sigma_b2 > 0
        gap = lambda q: w2 * mean(lambda x: np.tanh(x) ** 2, q) + sigma_b2 - q  # noqa: E731
        return optimize.brentq(gap, 1e-9, 10.0, xtol=1e-12)

    def excess(w2):
        return w2 * mean(lambda x: np.cosh(x) ** -4, q_star(w2)) - 1

    return optimize.brentq(excess, 1.01, 3.0, xtol=1e-6)


def test_it_applies_only_when_both_variances_are_swept():
    runs = _runs("relu")
    assert phase.applies(runs)
    assert not phase.applies(runs[runs["init.sigma_b2"] == 0.0])
    assert not phase.applies(runs.assign(theory_phase=None))


def test_cells_hold_the_median_over_seeds_and_say_how_many():
    runs = _runs("relu", seeds=3)
    fig = phase.phase_diagram(runs, Figure())
    (ax,) = [a for a in fig.axes if a.get_xlabel() == "init.sigma_w2"]
    texts = [t.get_text() for t in ax.texts]
    cell = runs[(runs["init.sigma_w2"] == 3.0) & (runs["init.sigma_b2"] == 0.05)]
    assert f"{cell['signal_slope'].median():+.3f}\n3 seeds" in texts
    assert len([t for t in texts if t.endswith("3 seeds")]) == 15


def test_relu_critical_line_is_sigma_w2_2_at_every_bias():
    fig = phase.phase_diagram(_runs("relu"), Figure())
    ax = [a for a in fig.axes if a.get_xlabel() == "init.sigma_w2"][0]
    (line,) = ax.get_lines()
    # sigma_w2 = 2 is the third column: its centre sits at 2.5 in cell coordinates
    np.testing.assert_allclose(line.get_xdata(), 2.5, atol=1e-6)
    assert line.get_ydata().min() == pytest.approx(0.5)  # sigma_b2 = 0's row
    assert line.get_ydata().max() == pytest.approx(2.5)  # sigma_b2 = 0.1's row


def test_tanh_critical_line_matches_an_independent_quadrature():
    fig = phase.phase_diagram(_runs("tanh"), Figure())
    ax = [a for a in fig.axes if a.get_xlabel() == "init.sigma_w2"][0]
    (line,) = ax.get_lines()
    x, y = line.get_xdata(), line.get_ydata()
    at = np.argmin(np.abs(y - 1.5))  # the sigma_b2 = 0.05 row's centre
    assert y[at] == pytest.approx(1.5, abs=0.03)
    want = _tanh_critical_sigma_w2(0.05)  # ~1.76
    # back from cell coordinates to sigma_w2: columns 1.0, 1.5, ... step 0.5
    got = SIGMA_W2[0] + (x[at] - 0.5) * 0.5
    assert got == pytest.approx(want, abs=0.02)


def test_no_line_when_the_critical_value_lies_outside_the_sweep():
    runs = _runs("relu")
    runs = runs[runs["init.sigma_w2"] >= 2.5]
    fig = phase.phase_diagram(runs, Figure())
    ax = [a for a in fig.axes if a.get_xlabel() == "init.sigma_w2"][0]
    assert not ax.get_lines()
