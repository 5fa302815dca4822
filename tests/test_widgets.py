"""Tests for audiomap_lib.widgets: sliders and menus whose every setting is precomputed, so that
they work in the built book with no kernel and offline (issue 12 §2).

The last test builds a one-page book the way ``scripts/course.py test`` does (nbval executes the
notebook, conftest.py saves it with its widget state, the book is built from it with execution
off) beside a page that Jupyter Book executes itself, and reads the HTML.
"""
from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from audiomap_lib.widgets import make_precomputed_dropdown, make_precomputed_slider  # noqa: E402

widgets = pytest.importorskip("ipywidgets")

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "book" / "_vendor" / "ipywidgets"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BUILT_IN_MODULES = {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def shell():
    """An IPython shell, so that ``display`` publishes rich outputs as in a kernel."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if InteractiveShell.initialized():
        yield InteractiveShell.instance()
        return
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    # its own user module: by default the shell puts a new __main__ into sys.modules
    user_module = types.ModuleType("_audiomap_widget_tests")
    sh = InteractiveShell.instance(config=config, user_module=user_module)
    try:
        yield sh
    finally:
        InteractiveShell.clear_instance()
        sys.modules.pop(user_module.__name__, None)


def _render(v) -> None:
    """Displays HTML, prints, and leaves a figure open (the Agg backend's ``plt.show`` shows nothing)."""
    from IPython.display import HTML, display

    display(HTML(f"<b>value {v}</b>"))
    print(f"printed {v}")
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, v])


def _links_of(control):
    from ipywidgets.widgets.widget import _instances
    from ipywidgets.widgets.widget_link import Link

    return [w for w in _instances.values() if isinstance(w, Link) and w.source[0] is control]


def _parts(box):
    assert isinstance(box, widgets.VBox)
    control, stack = box.children
    assert isinstance(stack, widgets.Stack)
    return control, stack


def test_slider_renders_every_value_into_its_own_output(shell) -> None:
    before = plt.figure()  # a figure of the notebook's own: left alone
    open_before = set(plt.get_fignums())  # with those other tests in this process left open
    box = make_precomputed_slider([1, 2, 3], _render, "k", value=2)
    control, stack = _parts(box)
    assert isinstance(control, widgets.SelectionSlider)
    assert control.description == "k"
    assert control._options_labels == ("1", "2", "3")
    assert control.index == 1 and stack.selected_index == 1
    assert len(stack.children) == 3
    for v, out in zip([1, 2, 3], stack.children):
        assert isinstance(out, widgets.Output)
        kinds = [o["output_type"] for o in out.outputs]
        assert kinds == ["display_data", "stream", "display_data"], out.outputs
        html_out, stream, image = out.outputs
        assert html_out["data"]["text/html"] == f"<b>value {v}</b>"
        assert stream == {"output_type": "stream", "name": "stdout", "text": f"printed {v}\n"}
        assert base64.b64decode(image["data"]["image/png"]).startswith(PNG_MAGIC)
    # the figures render made were shown in its output and closed; the notebook's stays open
    assert set(plt.get_fignums()) == open_before and before.number in open_before


def test_each_output_holds_what_render_displayed_for_its_value(shell) -> None:
    values = [0.25, 0.5, 1.0]
    box = make_precomputed_slider(values, lambda v: print(f"{v:.2f}"), "gain")
    _, stack = _parts(box)
    assert [out.outputs[0]["text"] for out in stack.children] == ["0.25\n", "0.50\n", "1.00\n"]


def test_the_control_is_linked_to_the_stack_in_the_browser(shell) -> None:
    box = make_precomputed_slider(["a", "b"], print, "letter")
    control, stack = _parts(box)
    links = _links_of(control)
    assert len(links) == 1
    link = links[0]
    assert type(link).__name__ == "Link"  # jslink, both ways (not jsdlink), in the browser: no kernel callback
    assert link.source == (control, "index")
    assert link.target == (stack, "selected_index")


def test_dropdown_with_labels_and_control_options(shell) -> None:
    box = make_precomputed_dropdown([10, 20, 30], print, "clip", value=30, labels=["ten", "twenty", "thirty"],
                                    layout={"width": "420px"})
    control, stack = _parts(box)
    assert isinstance(control, widgets.Dropdown)
    assert control._options_labels == ("ten", "twenty", "thirty")
    assert control.index == 2 and stack.selected_index == 2
    assert control.layout.width == "420px"
    assert [out.outputs[0]["text"] for out in stack.children] == ["10\n", "20\n", "30\n"]
    assert _links_of(control)[0].target == (stack, "selected_index")


def test_float_labels_and_a_start_value_given_as_an_int(shell) -> None:
    box = make_precomputed_slider([100.0, 1000.0, 7500.0], print, "cutoff (Hz)", value=1000)
    control, _ = _parts(box)
    assert control._options_labels == ("100", "1000", "7500")
    assert control.index == 1


def test_equal_labels_are_refused_even_for_distinct_values(shell) -> None:
    with pytest.raises(ValueError, match="labels"):
        make_precomputed_slider([0.1, 0.1000001], print, "x")


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"values": []}, ValueError, "values is empty"),
    ({"values": [1, 2], "value": 3}, ValueError, r"value 3 is not among values \[1, 2\]"),
    ({"values": [1, 2], "render": "print"}, TypeError, "render must be callable"),
    ({"values": [1, 2], "labels": ["one"]}, ValueError, "labels has 1 entries but values has 2"),
    ({"values": "abc"}, TypeError, "values must be a sequence"),
    ({"values": 3}, TypeError, "values must be a sequence"),
    ({"values": [1], "description": 5}, TypeError, "description must be a str"),
])
def test_bad_arguments_are_named(kwargs, error, match) -> None:
    args = {"values": [1, 2], "render": print, "description": "x", **kwargs}
    calls = []
    if callable(args["render"]):
        args["render"] = calls.append
    for make in (make_precomputed_slider, make_precomputed_dropdown):
        with pytest.raises(error, match=match):
            make(**args)
    assert calls == []  # refused before anything is rendered


def test_a_failing_render_restores_stdout_and_display(shell) -> None:
    stdout, pub = sys.stdout, shell.display_pub

    def render(v):
        print("half")
        raise RuntimeError(f"bad {v}")

    with pytest.raises(RuntimeError, match="bad 1"):
        make_precomputed_slider([1, 2], render, "x")
    assert sys.stdout is stdout
    assert shell.display_pub is pub


def test_display_updates_replace_the_displayed_output(shell) -> None:
    from IPython.display import display

    def render(v):
        handle = display("first", display_id=True)
        handle.update(f"second {v}")

    _, stack = _parts(make_precomputed_slider([1], render, "x"))
    assert [o["data"]["text/plain"] for o in stack.children[0].outputs] == ["'second 1'"]


def test_without_ipywidgets_the_start_value_is_rendered_once(shell, monkeypatch) -> None:
    from IPython.utils.capture import capture_output

    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # `import ipywidgets` raises ImportError
    calls = []

    def render(v):
        calls.append(v)
        _render(v)

    open_before = set(plt.get_fignums())  # figures other tests in this process left open
    for make in (make_precomputed_slider, make_precomputed_dropdown):
        calls.clear()
        with capture_output() as captured:
            result = make([1, 2, 3], render, "k", value=3)
        assert result is None
        assert calls == [3]
        assert "ipywidgets is not installed: k = 3 only" in captured.stdout
        assert "printed 3" in captured.stdout
        html_out, image = captured.outputs  # straight into the cell: the HTML, then the open figure
        assert html_out.data["text/html"] == "<b>value 3</b>"
        assert base64.b64decode(image.data["image/png"]).startswith(PNG_MAGIC)
        assert set(plt.get_fignums()) == open_before


def test_vendored_files_are_complete() -> None:
    """The embedder, RequireJS, and every font file the embedder's CSS names, with their licences."""
    embed = (VENDOR / "embed-amd.js").read_text(encoding="utf-8")
    assert 'define("@jupyter-widgets/html-manager"' in embed
    assert "__jupyter_widgets_assets_path__" in embed  # what assets-path.js sets
    assert ".widget-slider" in embed  # the controls' CSS is inside the bundle
    assert "RequireJS 2.3" in (VENDOR / "require.js").read_text(encoding="utf-8")[:300]
    fonts = set(re.findall(r"[0-9a-f]{20}\.woff2", embed))
    assert len(fonts) == 3
    for name in fonts | {"LICENSE-ipywidgets.txt", "LICENSE-requirejs.txt", "LICENSE-fontawesome.txt", "README.md"}:
        assert (VENDOR / name).is_file(), name
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    assert "1.0.15" in readme and "2.3.7" in readme


def test_assets_path_maps_every_module_of_the_embedder() -> None:
    """Each AMD module finds its fonts beside its RequireJS URL: assets-path.js must map every name it defines."""
    embed = (VENDOR / "embed-amd.js").read_text(encoding="utf-8")
    defined = {name.removeprefix("@jupyter-widgets/") for name in re.findall(r'define\("([^"]+)"', embed)}
    assets = (VENDOR / "assets-path.js").read_text(encoding="utf-8")
    listed = set(re.findall(r'"([^"]+)"', assets.split("var names = [", 1)[1].split("]", 1)[0]))
    assert defined == listed


def test_book_config_loads_the_vendored_files() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert config["html_extra_path"] == ["book/_vendor"]
    scripts = list(config["nb_ipywidgets_js"])
    assert scripts == ["../ipywidgets/assets-path.js", "../ipywidgets/require.js", "../ipywidgets/embed-amd.js"]
    for script in scripts:  # relative to _static, which lies beside the extra path's copy
        assert "://" not in script
        assert (ROOT / "book" / "_vendor" / script.removeprefix("../")).is_file(), script
    # not a static path: Jupyter Book adds every .js of the static paths to every page when the
    # book has a _static folder at its root
    assert not any("_vendor" in p for p in config["html_static_path"])


# ------------------------------------------------------------------------------- mini book

NOTEBOOK_CELL = '''\
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Audio, display

from audiomap_lib.widgets import make_precomputed_slider


def show(k):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(np.sin(np.arange(200) * k / 20))
    ax.set_title(f"k = {k}")
    plt.show()
    print(f"k is {k}")
    display(Audio(np.sin(np.arange(800) * k / 5), rate=8000))


make_precomputed_slider([1, 2, 3, 4], show, "k", value=2)'''


def _write_notebook(path: Path, title: str, mystnb: dict | None = None) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if mystnb:
        nb.metadata["mystnb"] = mystnb
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"), nbformat.v4.new_code_cell(NOTEBOOK_CELL)]
    nbformat.write(nb, str(path))


def _book_config() -> dict:
    """The repository's configuration, with its paths made absolute."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["title"] = "mini book"
    config["bibtex_bibfiles"] = [str(ROOT / p) for p in config["bibtex_bibfiles"]]
    sphinx = config["sphinx"]
    sphinx["local_extensions"] = {k: str(ROOT / v) for k, v in sphinx["local_extensions"].items()}
    for key in ("html_static_path", "html_extra_path"):
        sphinx["config"][key] = [str(ROOT / p) for p in sphinx["config"][key]]
    return config


def _script_srcs(page: str) -> list[str]:
    return [html.unescape(s) for s in re.findall(r'<script[^>]*\bsrc="([^"]*)"', page)]


def _widget_state(page: str) -> dict:
    found = re.findall(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', page, re.S)
    assert len(found) == 1
    return json.loads(found[0])


def _check_widget_page(page_path: Path, out_dir: Path) -> None:
    page = page_path.read_text(encoding="utf-8")
    # the vendored scripts, in order, each a file of the build; nothing from a CDN
    srcs = _script_srcs(page)
    ours = [s for s in srcs if "ipywidgets/" in s]
    assert [Path(s.split("?")[0]).name for s in ours] == ["assets-path.js", "require.js", "embed-amd.js"]
    for src in ours:
        target = (page_path.parent / src.split("?")[0]).resolve()
        assert target.is_file() and target.parent == (out_dir / "ipywidgets").resolve(), src
    assert all("://" not in s for s in srcs), srcs
    for tag in re.findall(r"<link[^>]*>", page):  # style sheets and preloads: local too
        if re.search(r'rel="(stylesheet|preload)"', tag):
            assert "://" not in tag, tag
    for cdn in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "unpkg.com/@jupyter-widgets", "html-manager@"):
        assert cdn not in page, cdn
    # the state: every model built into the embedder, a Stack of four outputs, linked to the slider
    state = _widget_state(page)["state"]
    models = {model_id: m for model_id, m in state.items()}
    assert {m["model_module"] for m in models.values()} <= BUILT_IN_MODULES
    by_name: dict[str, list[str]] = {}
    for model_id, m in models.items():
        by_name.setdefault(m["model_name"], []).append(model_id)
    (stack_id,) = by_name["StackModel"]
    (slider_id,) = by_name["SelectionSliderModel"]
    (link_id,) = by_name["LinkModel"]
    stack = models[stack_id]["state"]
    assert stack["selected_index"] == 1 and models[slider_id]["state"]["index"] == 1
    assert models[link_id]["state"]["source"] == [f"IPY_MODEL_{slider_id}", "index"]
    assert models[link_id]["state"]["target"] == [f"IPY_MODEL_{stack_id}", "selected_index"]
    outputs = [models[c.removeprefix("IPY_MODEL_")]["state"]["outputs"] for c in stack["children"]]
    assert len(outputs) == 4
    for k, outs in enumerate(outputs, start=1):
        texts = [o.get("text") for o in outs if o["output_type"] == "stream"]
        assert texts == [f"k is {k}\n"]
        data = [o["data"] for o in outs if o["output_type"] == "display_data"]
        assert base64.b64decode(data[0]["image/png"]).startswith(PNG_MAGIC)
        assert "<audio" in data[1]["text/html"]
    # the cell shows the box, and only the box: the plots are inside the state, not beside it
    (view,) = re.findall(r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>', page, re.S)
    assert models[json.loads(view)["model_id"]]["model_name"] == "VBoxModel"
    outside_state = re.sub(r'<script type="application/vnd\.jupyter\.widget-state\+json">.*?</script>', "", page,
                           flags=re.S)
    assert "k is 1" not in outside_state and "data:image/png" not in outside_state


def test_mini_book_embeds_the_widgets_and_loads_only_vendored_files(tmp_path: Path) -> None:
    """nbval + conftest.py (the test command's path) and Jupyter Book's own execution, built with -W."""
    pytest.importorskip("nbval")
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "jupyter-book").exists():
        pytest.skip("jupyter-book is not installed")
    # 1. the test command's path: nbval runs the notebook, the repository's conftest.py saves it
    run_dir = tmp_path / "nbval"
    run_dir.mkdir()
    shutil.copy2(ROOT / "conftest.py", run_dir / "conftest.py")
    _write_notebook(run_dir / "by_nbval.ipynb", "Executed by nbval")
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    plain.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(plain, str(run_dir / "plain.ipynb"))
    executed = tmp_path / "executed"
    env = {**os.environ, "AUDIOMAP_EXECUTED_DIR": str(executed), "AUDIOMAP_PROFILE": "quick",
           "AUDIOMAP_PROGRESS": "0"}
    result = subprocess.run([sys.executable, "-m", "pytest", "by_nbval.ipynb", "plain.ipynb", "--nbval-lax", "-q",
                             "-p", "no:cacheprovider"], cwd=run_dir, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    saved = nbformat.read(str(executed / "by_nbval.ipynb"), as_version=4)
    assert "application/vnd.jupyter.widget-state+json" in saved.metadata["widgets"]
    assert "widgets" not in nbformat.read(str(executed / "plain.ipynb"), as_version=4).metadata
    # 2. the book: that notebook with execution off (as course.py builds it), and one Jupyter Book executes
    book = tmp_path / "book"
    book.mkdir()
    nb = saved
    nb.metadata["mystnb"] = {"execution_mode": "off"}
    nbformat.write(nb, str(book / "by_nbval.ipynb"))
    _write_notebook(book / "by_book.ipynb", "Executed by Jupyter Book")
    (book / "intro.md").write_text("# A page without widgets\n\nText only.\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: by_nbval\n  - file: by_book\n")
    (book / "_config.yml").write_text(yaml.safe_dump(_book_config(), sort_keys=False))
    result = subprocess.run([str(bin_dir / "jupyter-book"), "build", str(book), "-W", "-n", "--keep-going"],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    out_dir = book / "_build" / "html"
    for name in ("by_nbval.html", "by_book.html"):
        _check_widget_page(out_dir / name, out_dir)
    # the vendored files are in the build, unchanged, and a page without widgets loads none of them
    for name in ("require.js", "embed-amd.js", "assets-path.js", "README.md"):
        assert (out_dir / "ipywidgets" / name).read_bytes() == (VENDOR / name).read_bytes()
    intro = (out_dir / "intro.html").read_text(encoding="utf-8")
    assert not [s for s in _script_srcs(intro) if "ipywidgets" in s or "require" in s]
    assert "widget-state+json" not in intro
