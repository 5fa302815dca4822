"""Every page of the built book, opened in a real browser with the network blocked.

Run by the test command (``course.py test``) after the quick book is built (``scripts/course.py``, ``run_browser_tests``):
Playwright drives Debian's Chromium (``AUDIOMAP_CHROMIUM``) over the HTML in ``AUDIOMAP_BOOK_HTML``,
served from 127.0.0.1; any other request is blocked and reported. Skipped when
``AUDIOMAP_BOOK_HTML`` is not set (the unit-test stage, which has no built book yet).
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import pytest

HTML = os.environ.get("AUDIOMAP_BOOK_HTML")
pytestmark = pytest.mark.skipif(not HTML, reason="AUDIOMAP_BOOK_HTML is not set: the test command sets it after the book build")

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
SKIP_PAGES = {"search.html", "genindex.html"}  # Sphinx's own search and index pages


def _pages(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.html")
                  if p.name not in SKIP_PAGES and not {"_static", "ipywidgets", "_sources"} & set(p.relative_to(root).parts))


ROOT = Path(HTML) if HTML else Path(".")
PAGES = _pages(ROOT) if HTML else []


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(ROOT)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("AUDIOMAP_CHROMIUM")
    assert chromium and Path(chromium).exists(), f"AUDIOMAP_CHROMIUM must name Chromium's executable; got {chromium!r}"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield b
        b.close()


def test_the_book_has_its_pages() -> None:
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256, "tests/browser/vendor/axe-core changed"
    import re

    toc = (Path(__file__).resolve().parents[2] / "_toc.yml").read_text(encoding="utf-8")
    expected = {f"{name}.html" for name in re.findall(r"(?:root|file): (\S+)", toc)} | {"index.html"}
    assert expected <= set(PAGES), sorted(expected - set(PAGES))
    assert sum(p.startswith("notebooks/") for p in PAGES) == 8, PAGES


_AUDIO_JS = """async () => {
  const audios = [...document.querySelectorAll('audio')];
  const wait = a => new Promise(resolve => {
    if (a.readyState >= 1) return resolve();
    a.addEventListener('loadedmetadata', resolve, {once: true});
    a.addEventListener('error', resolve, {once: true});
    a.load();
    setTimeout(resolve, 10000);
  });
  await Promise.all(audios.map(wait));
  return audios.map((a, i) => [i, a.duration, a.error ? a.error.code : null]);
}"""

_AXE_JS = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}, ${v.nodes.length}x): ${v.nodes[0].html.slice(0, 160)}`);
}"""

_VISIBLE_STACK_JS = """() => [...document.querySelectorAll('.widget-stack, .jupyter-widgets.widget-container')]
  .map(s => [...s.children].filter(c => c.offsetParent !== null).map(c => c.innerHTML.length + ':' + c.innerHTML.slice(-200)).join('|'))"""


@pytest.mark.parametrize("page_path", PAGES)
def test_page_works_offline(page_path: str, base_url: str, browser: object) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    blocked: list[str] = []

    def route(r: object) -> None:
        url = r.request.url  # type: ignore[attr-defined]
        if url.startswith(base_url) or url.startswith(("data:", "blob:")):
            r.continue_()  # type: ignore[attr-defined]
        else:
            blocked.append(url)
            r.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    failed: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(base_url + page_path, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)

    # the widgets, if any: rendered, and moving a slider changes what the page shows
    sliders = page.locator("[role='slider']")
    if page.locator("script[type='application/vnd.jupyter.widget-state+json']").count():
        page.wait_for_selector("[role='slider'], .widget-dropdown select", timeout=20000)
        if sliders.count():
            handle = sliders.first
            handle.focus()
            handle.press("Home")
            page.wait_for_timeout(200)
            start = page.evaluate(_VISIBLE_STACK_JS)
            handle.press("End")
            page.wait_for_timeout(300)
            after = page.evaluate(_VISIBLE_STACK_JS)
            assert after != start, f"{page_path}: moving the slider from its first to its last value did not change the page"

    shots = os.environ.get("AUDIOMAP_SCREENSHOTS")
    if shots:
        target = Path(shots) / (page_path.replace("/", "__").removesuffix(".html") + ".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target))

    named_by_file = page.evaluate("() => [...document.querySelectorAll('article img')]"
                                  ".filter(i => /\\.(png|jpe?g|svg)$/i.test(i.alt)).map(i => i.alt.slice(-60))")
    bad_images = page.evaluate("() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
                               ".map(i => i.src.slice(0, 100))")
    audio = page.evaluate(_AUDIO_JS)
    raw_maths = page.evaluate("() => { const t = (document.querySelector('article') || document.body).innerText;"
                              " return ['$$', '\\\\begin{', '\\\\frac{'].filter(s => t.includes(s)); }")
    has_maths = page.evaluate("() => document.querySelectorAll('.math').length")
    rendered_maths = page.evaluate("() => document.querySelectorAll('mjx-container').length")
    final_url = page.url
    links = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(_AXE_JS)
    context.close()

    assert not blocked, f"{page_path} asked the network for {blocked[:5]}"
    assert not failed, f"{page_path}: failed requests {failed[:5]}"
    assert not errors, f"{page_path}: console errors {errors[:5]}"
    assert not named_by_file, f"{page_path}: images whose alt text is their file name: {named_by_file[:5]}"
    assert not bad_images, f"{page_path}: images that did not load {bad_images[:3]}"
    assert all(d and d > 0 for _, d, err in audio), f"{page_path}: audio without a duration {[a for a in audio if not a[1]][:3]}"
    assert not raw_maths, f"{page_path}: maths left as TeX source {raw_maths}"
    assert not has_maths or rendered_maths >= 1, f"{page_path}: {has_maths} formulas, none rendered by MathJax"
    broken = []
    page_url = final_url  # after a redirect (the root index.html leads to the first page)
    for href in links:
        url, _ = urldefrag(urljoin(page_url, href))
        if not url.startswith(base_url):
            continue
        target = ROOT / unquote(urlparse(url).path[len(urlparse(base_url).path):])
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            broken.append(href)
    assert not broken, f"{page_path}: broken internal links {broken[:5]}"
    assert not violations, f"{page_path}: serious or critical accessibility violations (axe-core):\n" + "\n".join(violations)
