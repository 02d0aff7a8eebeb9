"""The report of a synthetic sweep: files, embedded figures, words, escaping, the CLI.

One test checks the report the real origin sweep's callback wrote.
"""

import json
import re
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from conftest import SYNTHETIC_STEPS
from sweeper.report import build as report
from sweeper.report import figures
from synthetic import write_sweep

# the origin's synthetic sweep: one vanishing setting, two swept settings
FIGURES = ("failures.png", "marginals.png", "heatmap_first_grad.png")
FIGURES += ("heatmap_final_loss.png", "layer_profile.png")
ATTACK = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def built(synthetic_sweep, tmp_path_factory):
    """A copy of the synthetic sweep with its report built by `build`."""
    folder = tmp_path_factory.mktemp("built") / "sweep"
    folder = shutil.copytree(synthetic_sweep, folder)
    assert not list(folder.glob("report.*"))  # every report file below is build's
    return folder, report.build(folder)


@pytest.mark.slow
def test_the_sweep_callback_wrote_the_report(origin_sweep):
    for name in ("summary.csv", "report.md", "report.html", *FIGURES):
        assert (origin_sweep / name).is_file(), name


def test_build_writes_files_and_embeds_every_figure(built):
    folder, path = built
    assert path == folder / "report.html"
    page = path.read_text()
    flows = [f"gradient_flow_{job}.png" for job in "0123"]
    for name in (*FIGURES, *flows):
        assert (folder / name).read_bytes().startswith(b"\x89PNG"), name
    assert page.count('src="data:image/png;base64,') == len(FIGURES) + len(flows)
    assert 'src="http' not in page and "<link" not in page
    assert (folder / "summary.csv").is_file() and (folder / "report.md").is_file()


def test_report_says_what_was_swept_and_why(built, synthetic_truth):
    folder, path = built
    text = (folder / "report.md").read_text()
    assert f"4 runs, {SYNTHETIC_STEPS} steps each." in text
    assert "Swept `init`: normal, xavier." in text
    assert "Swept `depth`: 2, 3." in text
    # each setting's story: its verdict, its seeds, the physics, then the outcome
    story = re.search(r"- init=normal depth=3: vanishing \(one seed\) — (.*)\.", text)
    assert story, text
    decades = synthetic_truth.set_index("job").loc["1", "signal_decades"]
    assert f"per-example signal ({decades:+.1f} decades" in story[1]
    assert "; it collapsed: loss " in story[1]
    healthy = text.split("### healthy")[1].split("##")[0]
    for name in ("init=xavier depth=2", "init=xavier depth=3"):
        assert f"- {name}: healthy (one seed) — " in healthy
        assert "; it learned: loss " in healthy
    # The factor between depth 2 and depth 3 for the question's init: jobs 0 and 1.
    line = re.search(
        r"init=normal: first-layer weight-gradient std at initialization \(first "
        r"batch\): depth=2 (\S+) vs depth=3 (\S+), a factor of ([\d,.]+) lower "
        r"\(one seed\)",
        text,
    )
    assert line, text
    low, high, factor = float(line[1]), float(line[2]), float(line[3].replace(",", ""))
    written = synthetic_truth["first_grad_std_init"]
    assert (low, high) == pytest.approx((written[0], written[1]), rel=0.05)  # 2 digits
    assert factor == pytest.approx(low / high, rel=0.1)
    assert factor == pytest.approx(written[0] / written[1], rel=0.1)
    # what a reader needs to run it again: every fixed setting, as overrides
    fixed = re.search(r"Fixed for every run \(as overrides\): `([^`]*)`", text)[1]
    assert "optimizer=sgd optimizer.lr=0.001 clip=value clip.threshold=4.5" in fixed
    assert "model.width=16 model.activation=relu" in fixed
    assert f"steps={SYNTHETIC_STEPS}" in fixed and "seed=0" in fixed
    assert "optimizer.momentum" not in fixed  # SGD reads no momentum
    assert "init" not in fixed and "depth=" not in fixed  # swept
    html_text = path.read_text()
    assert line[0] in html_text
    for job in "0123":
        assert f'href="{job}/metrics.csv"' in html_text
        assert f'href="{job}/run.json"' in html_text


def test_setting_values_are_escaped(synthetic_sweep, tmp_path):
    folder = tmp_path / "sweep"
    for job in ("0", "1"):
        shutil.copytree(synthetic_sweep / job, folder / job)
    record = json.loads((folder / "1" / "run.json").read_text())
    record["settings"]["init"] = ATTACK
    record["error"] = ATTACK
    (folder / "1" / "run.json").write_text(json.dumps(record))
    page = report.build(folder).read_text()
    assert ATTACK not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert ATTACK not in (folder / "report.md").read_text()


INJECTIONS = [
    "x\n\n<img src=x onerror=alert(1)>",  # a blank line, then raw HTML
    "[click](javascript:alert(1))",  # a link
    "![i](http://example.invalid/p.png)",  # an image
    "# heading",
    "`code` *bold* _em_",
]


def test_values_cannot_make_markdown_or_html_of_their_own(synthetic_sweep, tmp_path):
    import markdown_it

    folder = tmp_path / "sweep"
    for job in "0123":
        shutil.copytree(synthetic_sweep / job, folder / job)
        record = json.loads((folder / job / "run.json").read_text())
        record["settings"]["init"] = INJECTIONS[int(job)]
        record["error"] = INJECTIONS[4]
        (folder / job / "run.json").write_text(json.dumps(record))
    page = report.build(folder).read_text()
    # the Markdown, rendered as a Markdown viewer would (raw HTML allowed)
    rendered = markdown_it.MarkdownIt("commonmark").render(
        (folder / "report.md").read_text()
    )
    for html_text in (page, rendered):
        assert "<img src=x" not in html_text
        assert 'href="javascript' not in html_text
        assert "<h1>heading" not in html_text and "<em>em</em>" not in html_text
    assert '<img src="http://example.invalid' not in rendered
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered  # shown, as text


def test_a_link_in_the_folder_is_replaced_never_written_through(
    synthetic_sweep, tmp_path
):
    folder = shutil.copytree(synthetic_sweep, tmp_path / "received")
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    for name in ("gradient_flow_0.png", "report.md", "summary.csv"):
        (folder / name).unlink(missing_ok=True)
        (folder / name).symlink_to(outside)
    report.build(folder)
    assert outside.read_text() == "keep me"
    for name in ("gradient_flow_0.png", "report.md", "summary.csv"):
        assert not (folder / name).is_symlink() and (folder / name).stat().st_size


def test_failed_and_incomplete_runs_are_listed(tmp_path):
    folder = tmp_path / "sweep"
    verdicts = ["healthy", "failed", "healthy"]  # and job 2 killed before its run.json
    truth = write_sweep(folder, {"depth": [2, 3, 4]}, verdicts=verdicts, incomplete=[2])
    text = report.build(folder).read_text()
    assert "Failed and diverged runs" in text and truth["error"][1] in text
    assert "Incomplete runs" in text and "job 2: no run.json (still running" in text


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "sweeper.report", *map(str, args)],
        capture_output=True,
        text=True,
    )


def test_cli_missing_folder_fails_in_one_line(tmp_path):
    result = _cli(tmp_path / "nowhere")
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "does not exist" in result.stderr


def test_cli_folder_without_runs_fails_in_one_line(tmp_path):
    result = _cli(tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"sweeper.report: error: folder '{tmp_path}' holds no runs "
        "(no run.json in it or its subfolders)"
    ]


def test_cli_rebuilds_a_single_run_folder(synthetic_sweep, tmp_path):
    folder = shutil.copytree(synthetic_sweep / "1", tmp_path / "run")
    result = _cli(folder)
    assert result.returncode == 0, result.stderr
    assert (folder / "report.html").is_file()
    with Image.open(folder / "gradient_flow.png") as png:  # opaque: no alpha
        assert (png.format, png.mode) == ("PNG", "RGB")
        assert png.info["dpi"] == pytest.approx((report.DPI, report.DPI), abs=0.01)


def test_shared_flow_figure_shows_one_run_per_setting_not_healthy_first():
    import pandas as pd

    settings = [(d, s) for d in (2, 3, 4, 6) for s in range(20)]  # 80 runs
    runs = pd.DataFrame(
        {
            "job": [str(i) for i in range(len(settings))],
            "depth": [d for d, _ in settings],
            "seed": [s for _, s in settings],
            "verdict": ["vanishing" if d == 6 else "healthy" for d, _ in settings],
        }
    )
    runs.attrs["cli_text"] = {"depth": {}, "seed": {}}
    jobs = figures._flow_panels(runs)
    shown = runs.set_index("job").loc[jobs]
    assert list(shown["depth"]) == [6, 2, 3, 4]  # the not-healthy setting first
    assert set(shown["seed"]) == {0}  # one run (the first seed) per setting
    many = runs.assign(depth=range(len(runs)))  # 80 settings of one seed each
    assert len(figures._flow_panels(many)) == figures.MAX_PANELS


def test_the_terminal_lines_count_verdicts_and_name_what_is_not_healthy(tmp_path):
    from sweeper.report import analysis, narrative

    grid = {"init": ["normal", "xavier"], "depth": [2, 3, 4, 5, 6, 7, 8]}
    verdicts = ["vanishing"] * 6 + ["collapsed"] + ["healthy"] * 7
    write_sweep(tmp_path, grid, verdicts=verdicts)
    runs, _ = analysis.load_runs(tmp_path)
    lines = narrative.terminal_lines(runs, most=5)
    assert lines[0] == "14 runs: 7 healthy, 6 vanishing, 1 collapsed"
    assert lines[1] == (
        "vanishing: init=normal depth=2; init=normal depth=3; init=normal depth=4; "
        "init=normal depth=5; init=normal depth=6, and 1 more"
    )
    assert lines[2] == "collapsed: init=normal depth=8"
    assert len(lines) == 3


def test_a_sweep_whose_every_run_failed_gets_a_report_of_its_failures(tmp_path):
    truth = write_sweep(tmp_path, {"depth": [2, 3]}, verdicts="failed")
    text = report.build(tmp_path).read_text()
    assert "Failed and diverged runs" in text
    for error in truth["error"]:
        assert error in text
    # the failures as data, and no figure of measurements there are none of
    assert [p.name for p in tmp_path.glob("*.png")] == ["failures.png"]
    assert (tmp_path / "summary.csv").is_file()
