"""Debian's chromium, headless, as a test tool: load a page from a file, let its scripts run,
and return the DOM or a screenshot. Each run has a fresh profile and talks to no network."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_reason() -> str | None:
    if chromium() is None:
        return "chromium is not installed (scripts/install-deps.sh --dev installs it)"
    return None


def _run(extra: list[str], page: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="nk8s-chromium-") as profile:
        argv = [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              check=False)


def dump_dom(page: Path) -> str:
    """The DOM after the page loaded and its scripts ran."""
    proc = _run(["--dump-dom", "--virtual-time-budget=5000", "--window-size=1400,1000"], page)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise AssertionError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def screenshot(page: Path, png: Path, width: int = 1400, height: int = 1100) -> Path:
    proc = _run([f"--screenshot={png}", f"--window-size={width},{height}"], page)
    if proc.returncode != 0 or not png.exists():
        raise AssertionError(f"chromium screenshot failed: {proc.stderr[-2000:]}")
    return png


PROBE = """
<script>
// Test-only: measure what chromium laid out, so the test sees rendering, not just markup.
const svg = document.querySelector('.picture svg');
const out = {svg: svg ? [svg.getBoundingClientRect().width, svg.getBoundingClientRect().height]
                      : null, nodes: {}, rows: [], sessions: [], external: []};
for (const g of document.querySelectorAll('.picture g.node')) {
  const r = g.getBoundingClientRect();
  out.nodes[g.querySelector('title').textContent] = {
    w: r.width, h: r.height,
    texts: [...g.querySelectorAll('text')].filter(t => t.getComputedTextLength() > 0)
                                          .map(t => t.textContent)};
}
for (const tr of document.querySelectorAll('tr.route')) {
  const mark = [...tr.classList].find(c => c.startsWith('mark-'));
  if (tr.offsetHeight > 0) out.rows.push([tr.dataset.machine, tr.dataset.prefix, mark]);
}
for (const tr of document.querySelectorAll('tr.session')) {
  const cell = tr.lastElementChild;
  out.sessions.push([tr.dataset.session, cell.className, cell.textContent,
                     getComputedStyle(cell).color]);
}
for (const el of document.querySelectorAll('[src],[href],link')) out.external.push(el.outerHTML);
const pre = document.createElement('pre'); pre.id = 'probe';
pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
</script>
"""


def probe_graph_page(page: Path) -> dict:
    """What chromium laid out of a `nativek8s graph` HTML page: the SVG's size, each node's
    box and drawn texts, the visible route rows, and any external reference."""
    probed = page.with_name("probed.html")
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = dump_dom(probed)
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom[-2000:]
    return json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<")
                      .replace("&gt;", ">").replace("&quot;", '"'))
