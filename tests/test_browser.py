"""The origin sweep's report.html as a real browser shows it: headless Chromium."""

import html
import json
import os
import re
import struct
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real sweep rendered in Chromium

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; .ci/run installs it
TIMEOUT = 60  # seconds per Chromium call; a page load takes about one
WIDTH = 1200  # px, the window width the report is laid out at
VERDICTS = {"failed", "diverged", "exploding", "vanishing", "dead", "collapsed"}
FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where the sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",  # ms of page time: load and the check script finish
]
# Appended to a copy of the report (which has no JS of its own): on load (which waits
# for every image) it writes what it saw into <pre id="check">, synchronously: an
# awaited img.decode() could outlast --virtual-time-budget on a loaded machine.
CHECK = """<script>
addEventListener("load", () => {
  const images = [...document.images];
  const decoded = images.map((i) => i.complete && i.naturalWidth > 0);
  const tables = [...document.querySelectorAll("table")].map((t) => {
    const header = [...t.rows[0].cells].map((c) => c.textContent.trim());
    const column = header.indexOf("verdict");
    return {header, height: t.getBoundingClientRect().height,
      top: t.getBoundingClientRect().top, rows: t.rows.length - 1,
      verdicts: [...t.rows].slice(1).map((r) => r.cells[column]?.textContent.trim())};
  });
  const seen = {height: document.documentElement.scrollHeight, tables, decoded,
    naturalWidths: images.map((i) => i.naturalWidth),
    shownWidths: images.map((i) => i.getBoundingClientRect().width)};
  const out = document.createElement("pre");
  out.id = "check";
  out.textContent = JSON.stringify(seen);
  document.body.append(out);
});
</script>
"""


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Chromium's path; skipped without it, except under CI, where that fails."""
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing under CI; .ci/run should install it")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI runs this")
    return CHROMIUM


def run_chromium(chromium: Path, profile: Path, *args: str) -> str:
    """Run headless Chromium with a fresh profile dir; return its stdout. The page's
    console messages go to stderr (--enable-logging): none may be an error."""
    done = subprocess.run(
        [str(chromium), *FLAGS, "--enable-logging=stderr", f"--user-data-dir={profile}"]
        + list(args),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "rror" in line or "Uncaught" in line], (
        console
    )
    return done.stdout


def seen_in(chromium: Path, folder: Path, report: Path, size: str) -> dict:
    """What the check script saw in a copy of `report` at window `size`."""
    page = report.read_text()
    assert page.count("</body>") == 1
    copy = folder / "report.html"
    copy.write_text(page.replace("</body>", CHECK + "</body>"))
    dom = run_chromium(
        chromium,
        folder / "profile",
        f"--window-size={size}",
        "--dump-dom",
        copy.as_uri(),
    )
    found = re.search(r'<pre id="check">(.*?)</pre>', dom, re.S)
    assert found, f"the check script wrote nothing; DOM ends: {dom[-500:]}"
    return json.loads(html.unescape(found[1]))


@pytest.fixture(scope="module")
def seen(origin_sweep, chromium, tmp_path_factory) -> dict:
    """What the check script saw in a copy of the report, from the dumped DOM."""
    folder = tmp_path_factory.mktemp("browser")
    return seen_in(chromium, folder, origin_sweep / "report.html", f"{WIDTH},3000")


def test_every_image_decodes_and_shows(seen):
    assert len(seen["naturalWidths"]) >= 7  # 2 heatmaps, layer profile, 4 flows
    assert all(seen["decoded"]), seen["decoded"]
    assert all(w > 0 for w in seen["naturalWidths"]), seen["naturalWidths"]
    assert all(w > 0 for w in seen["shownWidths"]), seen["shownWidths"]


def test_verdict_table_has_one_row_per_run(seen):
    tables = [t for t in seen["tables"] if {"job", "verdict"} <= set(t["header"])]
    assert len(tables) == 1, [t["header"] for t in seen["tables"]]
    table = tables[0]
    assert table["height"] > 0
    assert len(table["verdicts"]) == 4, table["verdicts"]
    assert set(table["verdicts"]) <= VERDICTS | {"healthy"}, table["verdicts"]


def test_full_page_screenshot(origin_sweep, chromium, seen, tmp_path):
    """The untouched report, one window as tall as the page."""
    shot = tmp_path / "report.png"
    run_chromium(
        chromium,
        tmp_path / "profile",
        f"--window-size={WIDTH},{seen['height']}",
        f"--screenshot={shot}",
        (origin_sweep / "report.html").as_uri(),
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", data[16:24]) == (WIDTH, seen["height"])
    assert len(data) > 100_000, "a blank page of this size compresses far smaller"
    print(f"screenshot: {shot}")


# The 256-run grid of bench/sweep_speed.py, written synthetically (no training): 64
# settings of 4 seeds, with failures of every kind
BIG = {
    "depth": [2, 3, 4, 6],
    "init": ["normal", "xavier", "he_normal", "orthogonal"],
    "optimizer": ["sgd", "adam"],
    "clip": ["value", "global_norm"],
}
SCREEN = (1400, 900)


def _big_verdict(depth, init, optimizer, clip) -> str:
    if init == "normal":
        return "vanishing" if depth > 2 else "collapsed"
    if init == "orthogonal" and optimizer == "adam":
        return "diverged" if clip == "value" else "unstable"
    if init == "he_normal" and depth == 6:
        return "exploding" if optimizer == "sgd" else "dead"
    if init == "xavier" and depth == 6 and clip == "global_norm":
        return "failed"
    return "healthy"


@pytest.fixture(scope="module")
def big_report(tmp_path_factory) -> Path:
    from synthetic import write_sweep
    from sweeper.report import build

    folder = tmp_path_factory.mktemp("big")
    settings = [
        (d, i, o, c)
        for d in BIG["depth"]
        for i in BIG["init"]
        for o in BIG["optimizer"]
        for c in BIG["clip"]
    ]
    verdicts = {s: _big_verdict(*s) for s in settings}
    write_sweep(folder, BIG, seeds=[0, 1, 2, 3], verdicts=verdicts, steps=400)
    return build.build(folder)


def test_a_256_run_report_shows_the_answer_on_its_first_screen(
    big_report, chromium, tmp_path
):
    seen = seen_in(chromium, tmp_path, big_report, f"{SCREEN[0]},{SCREEN[1]}")
    assert all(seen["decoded"]) and len(seen["decoded"]) >= 6, seen["decoded"]
    assert all(w > 0 for w in seen["shownWidths"]), seen["shownWidths"]
    answer, *_ = seen["tables"]  # the first table is the answer's
    assert answer["header"][:2] == ["failing setting", "verdict (seeds)"]
    assert 0 < answer["top"] < SCREEN[1] and answer["rows"] > 0, answer
    verdicts = [t for t in seen["tables"] if {"job", "verdict"} <= set(t["header"])]
    assert len(verdicts[0]["verdicts"]) == 256  # every run, none dropped
    shot = tmp_path / "first_screen.png"
    run_chromium(
        chromium,
        tmp_path / "profile_shot",
        f"--window-size={SCREEN[0]},{SCREEN[1]}",
        f"--screenshot={shot}",
        big_report.as_uri(),
    )
    data = shot.read_bytes()
    assert struct.unpack(">II", data[16:24]) == SCREEN
    print(f"first screen: {shot}")
