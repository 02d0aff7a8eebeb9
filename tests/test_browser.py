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
    """Run headless Chromium with a fresh profile dir; return its stdout."""
    done = subprocess.run(
        [str(chromium), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def seen(origin_sweep, chromium, tmp_path_factory) -> dict:
    """What the check script saw in a copy of the report, from the dumped DOM."""
    folder = tmp_path_factory.mktemp("browser")
    page = (origin_sweep / "report.html").read_text()
    assert page.count("</body>") == 1
    copy = folder / "report.html"
    copy.write_text(page.replace("</body>", CHECK + "</body>"))
    dom = run_chromium(
        chromium,
        folder / "profile",
        f"--window-size={WIDTH},3000",
        "--dump-dom",
        copy.as_uri(),
    )
    found = re.search(r'<pre id="check">(.*?)</pre>', dom, re.S)
    assert found, f"the check script wrote nothing; DOM ends: {dom[-500:]}"
    return json.loads(html.unescape(found[1]))


def test_every_image_decodes_and_shows(seen):
    assert len(seen["naturalWidths"]) >= 7  # 2 heatmaps, layer profile, 4 flows
    assert all(seen["decoded"]), seen["decoded"]
    assert all(w > 0 for w in seen["naturalWidths"]), seen["naturalWidths"]
    assert all(w > 0 for w in seen["shownWidths"]), seen["shownWidths"]


def test_verdict_table_has_one_row_per_run(seen):
    tables = [t for t in seen["tables"] if "verdict" in t["header"]]
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
