"""A non-editable install: sweeper's wheel, installed in a fresh venv, runs anywhere.

The venv sees this environment's packages (TensorFlow, Hydra, ...) but gets its own
sweeper from the wheel; the sweep runs from a folder that holds no checkout.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ORIGIN_GRID

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_the_wheel_runs_the_origin_sweep_from_another_folder(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ beside the sources
    source.mkdir()
    for part in ("pyproject.toml", "README.md", "conf", "sweeper", "hydra_plugins"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy
        copy(ROOT / part, source / part)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, source],
        check=True,
    )
    [wheel] = wheels.glob("sweeper-*.whl")
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", venv], check=True
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "-q", "install", "--no-deps", "--no-index", wheel],
        check=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [python, "-c", "import sweeper, sweeper.conf; print(sweeper.conf.__file__)"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(venv))  # the wheel's sweeper, not this checkout's
    assert (Path(where).parent / "init" / "xavier.yaml").is_file()
    result = subprocess.run(
        [python, "-m", "sweeper", "-m", *ORIGIN_GRID, "steps=200", "log_every=50"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [sweep] = (elsewhere / "outputs" / "sweeps").iterdir()  # under the folder run from
    assert len(list(sweep.glob("*/metrics.csv"))) == 4  # the origin grid
    assert (sweep / "report.html").is_file() and (sweep / "summary.csv").is_file()
