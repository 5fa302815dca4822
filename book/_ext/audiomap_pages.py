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
"""
from __future__ import annotations

from typing import Any

__all__ = ["remove_repeated_scripts", "setup"]


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


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point."""
    app.connect("html-page-context", remove_repeated_scripts, priority=900)
    app.add_js_file("audiomap-a11y.js", loading_method="defer")
    app.add_css_file("audiomap-print.css", media="print")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
