"""The built book as one PDF: Chromium prints each page in the order of ``_toc.yml``, pypdf joins them.

Run through ``python3 scripts/course.py pdf``, which installs what this needs (Debian's Chromium,
Playwright and pypdf from the lock) and picks the built book. By hand::

    .venv/bin/python scripts/make_pdf.py _build/html _build/pdf/audiomap.pdf

Playwright drives the system's Chromium (``--chromium``, default ``chromium`` on the ``PATH``), so
no browser is downloaded; the pages are served from 127.0.0.1 and every other request is refused,
so the PDF shows what an offline reader sees. Each page waits for MathJax and the widgets to render
first. The PDF has one bookmark per page, titled as in the book.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

_RENDERED_JS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  await new Promise(r => setTimeout(r, 500));
  return document.title;
}"""


def list_toc_pages(toc_path: Path) -> list[str]:
    """The book's pages in reading order, as HTML paths relative to the site root."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return [f"{page}.html" for page in pages]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def make_pdf(html: Path, out: Path, chromium: str, toc_path: Path = ROOT / "_toc.yml") -> dict[str, float]:
    """Print every page of the book under ``html`` into ``out``.

    Returns:
        ``{"pages": PDF pages, "book_pages": HTML pages printed, "megabytes": file size, "seconds": time taken}``.
    """
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter

    start = time.monotonic()
    pages = list_toc_pages(toc_path)
    missing = [p for p in pages if not (html / p).is_file()]
    if missing:
        raise FileNotFoundError(f"html={html} lacks pages of _toc.yml: {missing}; build the book first")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/"
    writer = PdfWriter()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context()
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
        page = context.new_page()
        for i, name in enumerate(pages):
            page.goto(base + name, wait_until="load")
            title = page.evaluate(_RENDERED_JS).split("—")[0].split(" &#8212; ")[0].strip()
            part = Path(tmp) / f"{i:03d}.pdf"
            page.pdf(path=str(part), format="A4", print_background=True,
                     margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
            first = len(writer.pages)
            writer.append(str(part))
            writer.add_outline_item(title=title, page_number=first)
            print(f"  {name}: {len(writer.pages) - first} pages", flush=True)
        browser.close()
    server.shutdown()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".pdf.part")
    with partial.open("wb") as f:
        writer.write(f)
    partial.replace(out)
    n_pages = len(PdfReader(str(out)).pages)
    return {"pages": n_pages, "book_pages": len(pages), "megabytes": out.stat().st_size / 1e6,
            "seconds": time.monotonic() - start}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("html", type=Path, help="the built book's html folder (holds index.html)")
    parser.add_argument("out", type=Path, help="the PDF to write")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"),
                        help="Chromium's executable (default: chromium on the PATH)")
    args = parser.parse_args(argv)
    if not args.chromium:
        sys.exit("--chromium: no Chromium on the PATH (Debian: apt-get install chromium)")
    if not (args.html / "index.html").is_file():
        sys.exit(f"html: {args.html} holds no index.html; build the book first (course.py build)")
    stats = make_pdf(args.html, args.out, args.chromium)
    print(f"wrote {args.out}: {stats['pages']} PDF pages from {stats['book_pages']} book pages, "
          f"{stats['megabytes']:.1f} MB, in {stats['seconds']:.0f} s")


if __name__ == "__main__":
    main()
