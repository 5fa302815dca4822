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


def test_figures_get_their_description_as_alt_text(tmp_path: Path) -> None:
    """The PNG a notebook shows carries describe_figure's text; the built page's alt text becomes it."""
    import base64

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from audiomap_pages import add_figure_alt_text, read_png_description
    from IPython.core.interactiveshell import InteractiveShell

    from audiomap_lib.plots import describe_figure, install_figure_descriptions

    fig, (a, b) = plt.subplots(1, 2)
    a.plot([0, 1], label="clean")
    a.plot([1, 0], label="noisy <10 dB>")
    a.legend()
    a.set(title="waveforms", xlabel="time (s)", ylabel="amplitude")
    b.set(title="spectrum", xlabel="frequency (Hz)")
    fig.suptitle("Two views")
    text = describe_figure(fig)
    assert text == ("Figure: Two views. Panel 1: waveforms (x: time (s), y: amplitude) showing clean, noisy <10 dB>. "
                    "Panel 2: spectrum (x: frequency (Hz)).")
    shell = InteractiveShell.instance()
    try:
        assert install_figure_descriptions(shell)
        png, _ = shell.display_formatter.format(fig, include={"image/png"})
        data = png["image/png"]
    finally:
        InteractiveShell.clear_instance()
        plt.close(fig)
    raw = data if isinstance(data, bytes) else base64.b64decode(data)
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "f.png").write_bytes(raw)
    assert read_png_description(tmp_path / "_images" / "f.png") == text
    page = tmp_path / "notebooks" / "ch.html"
    page.parent.mkdir()
    page.write_text('<img alt="../_images/f.png" src="../_images/f.png" />'
                    '<img alt="a drawing" src="../_images/f.png" /><img alt="x.png" src="../_images/missing.png" />')
    assert add_figure_alt_text(tmp_path) == 1
    html = page.read_text()
    assert 'alt="Figure: Two views.' in html and "noisy &lt;10 dB&gt;" in html
    assert 'alt="a drawing"' in html and 'alt="x.png"' in html  # a real alt text, and a PNG without one, stay
    assert read_png_description(tmp_path / "nothing.png") is None


def test_importing_plots_sets_a_colour_blind_safe_cycle() -> None:
    import matplotlib as mpl
    import matplotlib.style

    import audiomap_lib.plots as plots

    plots.plt.style.use(plots.COLOUR_STYLE)
    expected = matplotlib.style.library["tableau-colorblind10"]["axes.prop_cycle"].by_key()["color"]
    assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == expected
