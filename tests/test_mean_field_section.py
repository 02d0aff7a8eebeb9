"""The report's theory section on a hand-made table: rows per setting over seeds,
agree or disagree, one-seed claims named as such."""

import pandas as pd

from sweeper.report import mean_field
from sweeper.report.document import Document


def _runs() -> pd.DataFrame:
    rows = []
    for init, measured, predicted in (
        ("a", [-0.30, -0.31, -0.29], -0.30),  # agrees
        ("b", [0.20, 0.21, 0.22], 0.05),  # outside the seeds' range, 0.16 off
    ):
        for seed, slope in enumerate(measured):
            rows.append(
                {
                    "job": str(len(rows)),
                    "init": init,
                    "seed": seed,
                    "signal_slope": slope,
                    "theory_slope": predicted,
                    "theory_phase": "ordered",
                    "theory_why": None,
                }
            )
    residual = {"theory_phase": None, "theory_why": "a residual or normalized net"}
    rows.append({**rows[0], "job": "6", "init": "c", **residual})
    runs = pd.DataFrame(rows)
    runs.attrs["cli_text"] = {
        "init": {v: v for v in runs["init"]},
        "seed": {v: str(v) for v in runs["seed"]},
    }
    return runs


def test_each_setting_is_one_row_over_its_seeds(tmp_path):
    doc = Document(tmp_path)
    mean_field.write(doc, _runs())
    text = doc.markdown()
    rows = [line for line in text.splitlines() if line.startswith("| init=")]
    assert len(rows) == 2
    assert "3 seeds" in rows[0] and "-0.300 \\[-0.310, -0.290\\]" in rows[0]
    assert rows[0].endswith("| agree |") and rows[1].endswith("| disagree |")
    assert "1 setting disagrees" in text
    assert "No prediction for 1 run: a residual or normalized net." in text


def test_one_seed_says_so(tmp_path):
    runs = _runs().iloc[[0, 3]]
    doc = Document(tmp_path)
    mean_field.write(doc, runs)
    assert "(one seed)" in doc.markdown()


def test_where_the_theory_applies_to_no_run_the_section_says_why(tmp_path):
    runs = _runs().iloc[[6]]
    doc = Document(tmp_path)
    mean_field.write(doc, runs)
    text = doc.markdown()
    assert "## Theory beside measurement" in text and "| init=" not in text
    assert "No prediction for 1 run: a residual or normalized net." in text
