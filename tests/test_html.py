"""The built book (``_build/html``, from ``jupyter-book build . -W --keep-going``): complete,
free of errors, offline, and rendered in a real browser.

CI (``.ci/run``) builds the book before it runs the tests; the chapters execute only there.
Without a build the tests here are skipped, saying so. The browser test uses Debian's
``chromium`` (headless, network blocked) and is skipped where it is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"

pytestmark = pytest.mark.skipif(
    not (HTML / "index.html").is_file(),
    reason="no built book in _build/html: run `jupyter-book build . -W --keep-going` first "
           "(.ci/run does)")


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files, todo = [toc["root"]], list(toc.get("chapters", []))
    for part in toc.get("parts", []):
        todo += part.get("chapters", [])
    while todo:
        entry = todo.pop(0)
        files.append(entry["file"])
        todo = entry.get("sections", []) + todo
    return files


PAGES = [HTML / f"{f}.html" for f in _toc_files()]
CHAPTERS = [p for p in PAGES if p.parent.name == "book"]


class _Tags(HTMLParser):
    """The tags of a page with their attributes, and the text of its inline scripts/styles."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.inline: list[str] = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            self.inline.append(data)


def _parse(page: Path) -> _Tags:
    parser = _Tags()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _local(page: Path, url: str) -> Path | None:
    """The file a relative URL of ``page`` points to; None for data:, fragments and remote."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    return (page.parent / unquote(parts.path)).resolve()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(HTML)))
def test_every_toc_page_is_built(page):
    assert page.is_file(), f"{page.relative_to(HTML)} is in _toc.yml but was not built"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(HTML)))
def test_every_image_exists_and_is_not_empty(page):
    srcs = [a["src"] for tag, a in _parse(page).tags if tag == "img" and a.get("src")]
    for src in srcs:
        if src.startswith("data:"):
            assert len(src) > 100, f"empty inline image on {page.name}"
            continue
        path = _local(page, src)
        assert path is not None, f"{page.name} loads an image from the network: {src}"
        assert path.is_file() and path.stat().st_size > 0, f"{page.name}: missing image {src}"


#: Markers of a failed cell or a docutils error in the HTML: myst-nb's error output
#: (``output error``/``traceback``, IPython traceback lexer ``ipythontb``), nbsphinx's
#: ``output_area stderr``, docutils' system messages and problematic nodes.
ERROR_MARKERS = ("Traceback (most recent call last)", "output error", "output traceback",
                 "highlight-ipythontb", "system-message", 'class="problematic"',
                 "output stderr", "output_area stderr")


#: A docstring example (doctest block) may show the exception a bad call raises: documentation
#: of the API page, not a failed cell. Its ``<pre>`` is left out of the search.
_DOCTEST = re.compile(r'<div class="doctest[^"]*"><div class="highlight"><pre>.*?</pre>', re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(HTML)))
def test_no_page_holds_an_error_output(page):
    html = _DOCTEST.sub("", page.read_text(encoding="utf-8"))
    found = [m for m in ERROR_MARKERS if m in html]
    assert not found, f"{page.relative_to(HTML)} holds {found}"


#: A cell's last expression echoed as a plotting call's return value (``<matplotlib.legend.Legend
#: at 0x…>``, ``[Text(0.5, 0, 'detuning …'), …]``): noise between a figure and its caption.
#: Figure cells end with a statement (or ``;``); a result a chapter means to show (a ``Model``)
#: is kept.
_RESULT = re.compile(r'class="output text_plain[^"]*"><div class="highlight"><pre>(.*?)</pre>',
                     re.S)
_PLOT_REPR = re.compile(r"&lt;[\w.]+ (object )?at 0x[0-9a-f]+&gt;|\bText\(|matplotlib|Line2D")


@pytest.mark.parametrize("page", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_shows_a_plotting_calls_return_value(page):
    found = [r[:60] for r in _RESULT.findall(page.read_text(encoding="utf-8"))
             if _PLOT_REPR.search(r)]
    assert not found, f"{page.relative_to(HTML)} shows {found}"


_REMOTE = re.compile(r"^\s*(https?:)?//", re.I)
_CSS_REMOTE = re.compile(r"(@import\s+(url\()?|url\()\s*['\"]?(https?:)?//", re.I)


def _remote_loads(page: Path) -> list[str]:
    """Scripts, stylesheets, fonts and preloads of ``page`` (and its local CSS) from the net."""
    parsed = _parse(page)
    remote = []
    css_files = []
    for tag, a in parsed.tags:
        url = a.get("src") if tag in ("script", "iframe") else a.get("href") if tag == "link" \
            else None
        if tag == "link" and not set((a.get("rel") or "").lower().split()) & {
                "stylesheet", "preload", "modulepreload", "prefetch", "font", "icon"}:
            continue
        if url and _REMOTE.match(url):
            remote.append(f"<{tag}> {url}")
        elif url and tag == "link" and url.split("?")[0].endswith(".css"):
            css_files.append(_local(page, url))
    for text in parsed.inline:
        remote += [f"inline: {m.group(0)}" for m in _CSS_REMOTE.finditer(text)]
    for css in filter(None, css_files):
        if css.is_file():
            remote += [f"{css.name}: {m.group(0)}"
                       for m in _CSS_REMOTE.finditer(css.read_text(errors="replace"))]
    return remote


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(HTML)))
def test_no_page_loads_scripts_styles_or_fonts_from_the_network(page):
    remote = _remote_loads(page)
    assert not remote, f"{page.relative_to(HTML)} loads from the network: {remote}"


# --- a real browser, network blocked ---------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: Appended to a copy of the page: once MathJax has typeset (or after 40 s of virtual time),
#: write what the browser sees into the DOM, which --dump-dom prints.
_PROBE = """
<script>
(function () {
  function report() {
    var imgs = Array.prototype.map.call(document.images, function (im) {
      return {src: im.getAttribute('src'), ok: im.complete && im.naturalWidth > 0};
    });
    var out = document.createElement('pre');
    out.id = 'ddbook-probe';
    out.textContent = JSON.stringify({
      images: imgs,
      mjx: document.querySelectorAll('mjx-container').length,
      merror: document.querySelectorAll('mjx-merror').length,
      mathjax: !!(window.MathJax && MathJax.version)
    });
    document.body.appendChild(out);
  }
  var reported = false;
  function once() { if (!reported) { reported = true; report(); } }
  window.addEventListener('load', function () {
    var done = window.MathJax && MathJax.startup && MathJax.startup.promise;
    if (done) { done.then(function () { setTimeout(once, 100); }); }
    setTimeout(once, done ? 40000 : 3000);  // MathJax missing or stuck: report what is there
  });
})();
</script>
"""


def _browse(page: Path, tmp_path: Path) -> dict:
    html = page.read_text(encoding="utf-8")
    base = f'<base href="{page.parent.as_uri()}/">'
    html = html.replace("<head>", "<head>" + base, 1).replace("</body>", _PROBE + "</body>", 1)
    probe_page = tmp_path / page.name
    probe_page.write_text(html, encoding="utf-8")
    tries = []
    for attempt in range(5):
        # A fresh profile per try: a chromium that crashed leaves its profile locked
        # (SingletonLock), and every later start on it exits at once without a dump, which
        # turned one crash into four failed tries on a CI machine. (A real-time --timeout
        # is no substitute for the virtual-time budget: it dumps at the load event, before
        # MathJax has typeset and the probe has reported.)
        cmd = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
               "--disable-crash-reporter", "--disable-breakpad",
               f"--user-data-dir={tmp_path / f'profile{attempt}'}",
               "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: the network is gone
               "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
               "--allow-file-access-from-files", "--virtual-time-budget=60000",
               "--dump-dom", probe_page.as_uri()]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            tries.append(f"try {attempt}: no exit within 180 s")
            continue
        match = re.search(r'<pre id="ddbook-probe">(.*?)</pre>', res.stdout, re.S)
        if match:
            break
        errors = [line for line in res.stderr.splitlines() if "dbus" not in line.lower()]
        tries.append(f"try {attempt}: exit {res.returncode}, {len(res.stdout)} characters "
                     f"of DOM, stderr without dbus noise: {' | '.join(errors)[-600:]}")
        time.sleep(2 * (attempt + 1))
    else:
        raise AssertionError(f"no probe result for {page.name}:\n" + "\n".join(tries))
    import html as html_lib

    return json.loads(html_lib.unescape(match.group(1)))


@pytest.mark.skipif(CHROMIUM is None,
                    reason="chromium is not installed (Debian: apt-get install chromium; "
                           ".ci/run installs it where apt-get can)")
@pytest.mark.parametrize("page", CHAPTERS, ids=lambda p: p.stem)
def test_browser_renders_maths_and_images_offline(page, tmp_path):
    seen = _browse(page, tmp_path)
    has_math = 'class="math' in page.read_text(encoding="utf-8")
    if has_math:
        assert seen["mathjax"], f"MathJax did not load on {page.name}"
        assert seen["mjx"] > 0, f"no typeset maths on {page.name}"
    assert seen["merror"] == 0, f"{seen['merror']} MathJax errors on {page.name}"
    broken = [im["src"] for im in seen["images"] if not im["ok"]]
    assert not broken, f"images that did not load on {page.name}: {broken}"
