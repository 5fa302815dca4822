"""book/_ext/audiomap_pages.py: each script once on every page."""
from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
from audiomap_pages import remove_repeated_scripts  # noqa: E402


def _js(filename: str | None, **attributes: str) -> SimpleNamespace:
    return SimpleNamespace(filename=filename, attributes=attributes)


def test_identical_scripts_are_kept_once_and_in_order() -> None:
    thebe = 'const THEBE_JS_URL = "x"'
    scripts = [_js("a.js"), _js(None, body=thebe), _js("b.js", defer="defer"), _js("", body=thebe),
               _js("b.js", defer="defer"), _js("b.js")]
    context = {"script_files": scripts}
    remove_repeated_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] == [scripts[0], scripts[1], scripts[2], scripts[5]]


def test_a_page_without_scripts_is_left_alone() -> None:
    context: dict[str, object] = {}
    remove_repeated_scripts(None, "page", "page.html", context, None)
    assert context == {}
