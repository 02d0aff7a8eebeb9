"""Without Hydra's private functions, sweeper takes its public path to the same files.

SWEEPER_PUBLIC_HYDRA=1 makes every guarded private import of
sweeper.cli.hydra_internals fail, as a Hydra release that removed them would.
"""

import os
import subprocess
import sys

import pytest

from conftest import summary_text, sweep

GRID = ["init=normal,xavier", "depth=2,3", "steps=300", "log_every=100"]


def hydra_internals(env: dict) -> list:
    code = (
        "from sweeper.cli import hydra_internals as h\n"
        "print(h.CONFIG_LOADER is None, h.basic_sweeper() is None,"
        " h._GET_ARGS_PARSER is None)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    return result.stdout.split()


def test_the_switch_turns_every_private_import_off():
    public = {**os.environ, "SWEEPER_PUBLIC_HYDRA": "1"}
    assert hydra_internals(public) == ["True", "True", "True"]
    private = {k: v for k, v in os.environ.items() if k != "SWEEPER_PUBLIC_HYDRA"}
    assert hydra_internals(private) == ["False", "False", "False"]


@pytest.mark.slow
def test_the_public_path_writes_the_same_files(tmp_path, monkeypatch):
    usual, public = tmp_path / "usual", tmp_path / "public"
    for folder in (usual, public):
        folder.mkdir()
    first = sweep(usual, *GRID)
    monkeypatch.setenv("SWEEPER_PUBLIC_HYDRA", "1")
    second = sweep(public, *GRID)
    # every job composed by Hydra in full, against one per set of group choices
    assert (
        "Composed 4 jobs, 4 composed by Hydra in full" in second.stdout + second.stderr
    )
    assert "Composed 4 jobs, 2 composed by Hydra in full" in first.stdout + first.stderr
    names = sorted(p.relative_to(usual) for p in usual.glob("*/metrics.csv"))
    assert len(names) == 4
    for name in names:
        assert (usual / name).read_bytes() == (public / name).read_bytes(), name
    assert summary_text(usual) == summary_text(public)
    assert (public / "report.html").is_file()
