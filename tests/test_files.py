"""Files as other tools write theirs: whole or not at all, in the umask's mode."""

import os
import stat

import numpy as np
import pandas as pd
import pytest

from sweeper.record import files


@pytest.fixture
def umask():
    def set_umask(mask: int) -> None:
        os.umask(mask)

    saved = os.umask(0o022)
    yield set_umask
    os.umask(saved)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_mode_the_umask_gives(tmp_path, umask, mask, mode):
    umask(mask)
    files.write_text("report\n", tmp_path / "report.md")
    files.write_json({"complete": True}, tmp_path / "run.json")
    files.write_csv(pd.DataFrame({"a": [1.5]}), tmp_path / "summary.csv")
    for name in ("report.md", "run.json", "summary.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "report.md",
        "run.json",
        "summary.csv",
    ]  # no temporary file left behind


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "summary.csv"
    files.write_text("old\n", path)

    def broken(handle):
        handle.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        files._atomic_write(path, broken)
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"]


def test_no_cell_of_a_csv_is_a_spreadsheet_formula(tmp_path):
    table = pd.DataFrame(
        {
            "init": ["=cmd|' /C calc'!A0", "+1+2", "@SUM(A1)", "-x", "xavier"],
            "lr": ["-0.1", "1e-3", "-1e-05", "0", "+2"],  # numbers stay numbers
            "loss": [0.5, -1.5, 2.0, 3.0, 4.0],
        }
    )
    files.write_csv(table, tmp_path / "summary.csv")
    back = pd.read_csv(tmp_path / "summary.csv", dtype=str)
    assert back["init"].tolist() == [
        "'=cmd|' /C calc'!A0",
        "'+1+2",
        "'@SUM(A1)",
        "'-x",
        "xavier",
    ]
    assert back["lr"].tolist() == ["-0.1", "1e-3", "-1e-05", "0", "+2"]
    assert back["loss"].tolist() == ["0.5", "-1.5", "2", "3", "4"]


SETTINGS = [
    {},
    {"depth": "2", "init": "normal"},
    # what pandas formats, quotes or defuses: numbers, flags, none, formulas, commas,
    # quotes, line breaks
    {"a": 3, "b": 0.001, "c": True, "d": None, "e": "=1+2", "f": 'x,"y"', "g": "a\nb"},
    # an empty text (one column alone writes it '""'), a key to quote, a 'nan' in text
    {"": "", "k,1": "banana", "nan": float("nan"), "x": [1, 2]},
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_metrics_are_written_as_pandas_writes_their_table(tmp_path, settings):
    """write_metrics formats the cells itself; its bytes are write_csv's of the
    same metrics_table, over float32 values from 1e-45 to 1e30, NaN and infinities."""
    from sweeper.contract import LAYER_METRICS, RUN_METRICS

    rng = np.random.default_rng(0)
    steps, shape = np.array([0, 100, 200]), (3, 4)

    def floats(size):
        scale = 10.0 ** rng.integers(-45, 30, size=size)
        return (rng.normal(size=size) * scale).astype(np.float32)

    layer = {name: floats(shape) for name in LAYER_METRICS}
    layer["grad_max"][0, 1], layer["drift"][1, 2] = np.nan, np.inf
    layer["act_rms"][2, 0] = -0.0
    run = {name: floats(3) for name in RUN_METRICS}
    run["accuracy"][:], run["loss"][1] = np.nan, -np.inf
    table = files.metrics_table(steps, layer, run, settings)
    files.write_csv(table, tmp_path / "pandas.csv")
    files.write_metrics(steps, layer, run, settings, tmp_path / "metrics.csv")
    written = (tmp_path / "metrics.csv").read_bytes()
    assert written == (tmp_path / "pandas.csv").read_bytes()
    assert len(pd.read_csv(tmp_path / "metrics.csv")) == 3 * 4  # a row a step and layer
