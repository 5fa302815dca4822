"""What every page of the book gets: each script once, and accessible names the theme leaves out.

A Sphinx extension (listed in ``_config.yml``), checked by ``tests/browser/test_book_pages.py``
in a real browser.

1. **Each script once.** Jupyter Book 1 and sphinx-book-theme both add sphinx-thebe's inline
   configuration (``const THEBE_JS_URL = ...``), so every page threw "Identifier 'THEBE_JS_URL'
   has already been declared". Identical script entries are kept once.
2. ``_static/audiomap-a11y.js`` gives accessible names where the theme's or the widgets'
   markup has none (see that file).
3. ``_static/audiomap-print.css``: printed (``course.py pdf``), code and outputs wrap instead of
   running off the page.
4. **Alt text for figures.** myst-nb gives a cell's image its file name as alt text. Importing
   ``audiomap_lib.plots`` makes each figure's PNG carry a description (its titles, axis labels and
   legend: ``describe_figure``); after the build, every image whose alt text is its file name gets
   that description instead.
"""
from __future__ import annotations

import html
import re
import struct
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import unquote

__all__ = ["add_figure_alt_text", "read_png_description", "remove_repeated_scripts", "setup"]

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_IMG_WITH_FILE_NAME_ALT = re.compile(r'<img alt="([^"]*\.png)" src="([^"]+\.png)"')


def remove_repeated_scripts(app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Keep the first of identical entries of ``context["script_files"]`` (same file, same attributes and body)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    kept = []
    for js in scripts:
        attrs = getattr(js, "attributes", {}) or {}
        # an inline script's filename is None from one extension and "" from another
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted((str(k), str(v)) for k, v in attrs.items())))
        if key in seen:
            continue
        seen.add(key)
        kept.append(js)
    context["script_files"] = kept


def read_png_description(path: Path) -> str | None:
    """The ``Description`` text chunk of a PNG file (tEXt, zTXt or iTXt), or ``None``."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(_PNG_MAGIC):
        return None
    pos = len(_PNG_MAGIC)
    while pos + 8 <= len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IDAT" or kind == b"IEND":
            break
        key, _, rest = body.partition(b"\x00")
        if key != b"Description":
            continue
        if kind == b"tEXt":
            return rest.decode("latin-1")
        if kind == b"zTXt":
            return zlib.decompress(rest[1:]).decode("latin-1")
        if kind == b"iTXt":
            compressed, text = rest[0], rest[2:].split(b"\x00", 2)[2]
            return (zlib.decompress(text) if compressed else text).decode("utf-8")
    return None


def add_figure_alt_text(outdir: Path) -> int:
    """Give each ``<img>`` whose alt text is its file name the description its PNG carries.

    Returns:
        How many images got a description.
    """
    changed = 0
    for page in Path(outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")

        def describe(match: re.Match[str], folder: Path = page.parent) -> str:
            nonlocal changed
            description = read_png_description((folder / unquote(match.group(2))).resolve())
            if not description:
                return match.group(0)
            changed += 1
            return f'<img alt="{html.escape(description, quote=True)}" src="{match.group(2)}"'

        new = _IMG_WITH_FILE_NAME_ALT.sub(describe, text)
        if new != text:
            page.write_text(new, encoding="utf-8")
    return changed


def _on_build_finished(app: Any, exception: Exception | None) -> None:
    if exception is None and getattr(app.builder, "format", "") == "html":
        add_figure_alt_text(Path(app.outdir))


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point."""
    app.connect("html-page-context", remove_repeated_scripts, priority=900)
    app.add_js_file("audiomap-a11y.js", loading_method="defer")
    app.add_css_file("audiomap-print.css", media="print")
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
