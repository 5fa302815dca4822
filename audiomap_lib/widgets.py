"""Sliders and menus that work in the static book: every setting precomputed (Chapter 1 first).

A widget built with ``ipywidgets.interactive`` calls Python each time the slider moves, so in the
built book, where there is no kernel, it is frozen. The widgets made here compute every setting
*once*, when the notebook runs: what ``render(value)`` displays for each value (plots, players,
text) is kept in an ``ipywidgets.Output`` of its own, the outputs go into an ``ipywidgets.Stack``
that shows one at a time, and ``ipywidgets.jslink`` ties the control's ``index`` to the stack's
``selected_index`` in the browser. The notebook saves the widget state, and the book's pages load
the vendored embedder (``book/_vendor/ipywidgets``), so moving the slider works offline.

:func:`make_precomputed_slider` (a slider over the values) and :func:`make_precomputed_dropdown`
(a menu) are the two faces of one implementation. Without ipywidgets installed, both render the
start value once, as a plain cell output, and return ``None``.

Keep the number of values modest: every one is rendered when the notebook runs and stored in the
page (a figure and a player are some 50-100 kB each).
"""
from __future__ import annotations

import base64
import io
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["make_precomputed_slider", "make_precomputed_dropdown"]

Render = Callable[[Any], object]


def make_precomputed_slider(
    values: Sequence[Any],
    render: Render,
    description: str,
    value: Any = None,
    labels: Sequence[str] | None = None,
    **control_kwargs: Any,
) -> Any:
    """A slider over ``values`` whose every position is rendered now, so it works without a kernel.

    First used in Chapter 1 (the bit-depth slider); Chapters 2, 3 and 8 use it too.

    Args:
        values: the settings, in slider order, at least one; any objects (numbers, tuples...).
            Every one is passed to ``render`` once, when this function runs.
        render: ``render(v)`` displays what the slider shows for the value ``v``: it may call
            ``display(...)``, ``plt.show()`` or ``print``. Figures it leaves open are displayed and
            closed; every figure it makes is closed afterwards.
        description: the slider's label.
        value: the start position, one of ``values`` (default: the first).
        labels: the text shown for each value, same length as ``values``
            (default: ``str(v)``, or ``f"{v:g}"`` for floats).
        **control_kwargs: passed on to ``ipywidgets.SelectionSlider`` (e.g. ``layout=``, ``style=``).

    Returns:
        ``ipywidgets.VBox([slider, stack])``: display it, or make it the cell's last line. ``None``
        when ipywidgets is not installed; then ``render(value)`` has displayed the start value.

    Raises:
        ValueError: ``values`` empty, ``value`` not among them, ``labels`` of another length.
        TypeError: ``render`` not callable.
    """
    return _make_precomputed("SelectionSlider", values, render, description, value, labels, control_kwargs)


def make_precomputed_dropdown(
    values: Sequence[Any],
    render: Render,
    description: str,
    value: Any = None,
    labels: Sequence[str] | None = None,
    **control_kwargs: Any,
) -> Any:
    """A drop-down menu over ``values`` whose every entry is rendered now (Chapter 6's test clips).

    The same as :func:`make_precomputed_slider` (Chapter 1), with an ``ipywidgets.Dropdown``:
    better when the values are not ordered or their labels are long.

    Args:
        values: the entries, at least one; each is passed to ``render`` once.
        render: ``render(v)`` displays what the menu shows for the entry ``v``.
        description: the menu's label.
        value: the start entry, one of ``values`` (default: the first).
        labels: the text of each entry (default: ``str(v)``, or ``f"{v:g}"`` for floats).
        **control_kwargs: passed on to ``ipywidgets.Dropdown`` (e.g. ``layout=``).

    Returns:
        ``ipywidgets.VBox([dropdown, stack])``, or ``None`` without ipywidgets (the start entry
        has then been displayed).

    Raises:
        ValueError: ``values`` empty, ``value`` not among them, ``labels`` of another length.
        TypeError: ``render`` not callable.
    """
    return _make_precomputed("Dropdown", values, render, description, value, labels, control_kwargs)


def _make_precomputed(
    control: str,
    values: Sequence[Any],
    render: Render,
    description: str,
    value: Any,
    labels: Sequence[str] | None,
    control_kwargs: Mapping[str, Any],
) -> Any:
    if isinstance(values, (str, bytes, Mapping)):
        raise TypeError(f"values must be a sequence (list, tuple, range) of settings; got {type(values).__name__}")
    try:
        values = list(values)
    except TypeError:
        raise TypeError(f"values must be a sequence (list, tuple, range) of settings; got {type(values).__name__}") from None
    if not values:
        raise ValueError("values is empty; expected at least one setting to precompute")
    if not callable(render):
        raise TypeError(f"render must be callable as render(value); got {type(render).__name__}")
    if not isinstance(description, str):
        raise TypeError(f"description must be a str; got {type(description).__name__}")
    start = 0 if value is None else _index_of(values, value)
    if labels is None:
        texts = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    else:
        texts = [str(t) for t in labels]
        if len(texts) != len(values):
            raise ValueError(f"labels has {len(texts)} entries but values has {len(values)}; expected one label per value")
    if len(set(texts)) != len(texts):
        raise ValueError(f"the labels shown for values must be distinct; got {texts} (pass labels=)")
    try:
        import ipywidgets as widgets
    except ImportError:
        print(f"(ipywidgets is not installed: {description} = {texts[start]} only)")
        _render_flushing_figures(render, values[start], _publish_display)
        return None

    outputs = []
    for v in values:
        recorded = _OutputList()
        with _recording(recorded):
            _render_flushing_figures(render, v, recorded.add_display)
        outputs.append(widgets.Output(outputs=tuple(recorded.outputs)))
    stack = widgets.Stack(children=outputs, selected_index=start)
    # the options' values are the indices, so that equal-looking values never clash
    ctrl = getattr(widgets, control)(options=list(zip(texts, range(len(values)))), index=start,
                                     description=description, **control_kwargs)
    # the link lives in the browser: moving the control switches the stack with no kernel
    widgets.jslink((ctrl, "index"), (stack, "selected_index"))
    return widgets.VBox([ctrl, stack])


def _index_of(values: list[Any], value: Any) -> int:
    for i, v in enumerate(values):
        try:
            if v is value or bool(v == value):
                return i
        except (TypeError, ValueError):  # e.g. arrays, whose == is elementwise
            continue
    raise ValueError(f"value {value!r} is not among values {values!r}; expected one of them as the start setting")


class _OutputList:
    """Outputs in the order a frontend would show them (nbformat dicts), as ``Output.outputs`` wants."""

    def __init__(self) -> None:
        self.outputs: list[dict[str, Any]] = []
        self._by_display_id: dict[str, int] = {}

    def add_display(self, data: Mapping[str, Any], metadata: Mapping[str, Any] | None = None,
                    transient: Mapping[str, Any] | None = None, update: bool = False) -> None:
        out = {"output_type": "display_data", "data": {k: _jsonable(v) for k, v in data.items()},
               "metadata": dict(metadata or {})}
        display_id = (transient or {}).get("display_id")
        if update and display_id in self._by_display_id:  # DisplayHandle.update: replace, as a frontend does
            self.outputs[self._by_display_id[display_id]] = out
            return
        if display_id:
            self._by_display_id[display_id] = len(self.outputs)
        self.outputs.append(out)

    def add_stream(self, name: str, text: str) -> None:
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def clear(self) -> None:
        self.outputs.clear()
        self._by_display_id.clear()


def _jsonable(value: Any) -> Any:
    # IPython's formatters may give raw bytes (e.g. image/png); notebooks store base64 text
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


class _Stream(io.TextIOBase):
    def __init__(self, target: _OutputList, name: str) -> None:
        self._target, self._name = target, name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            self._target.add_stream(self._name, text)
        return len(text)


@contextmanager
def _recording(target: _OutputList) -> Iterator[None]:
    """Send ``display(...)`` and stdout to ``target`` instead of the cell (stderr, warnings, stay)."""
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class _Publisher(DisplayPublisher):
        def publish(self, data: Any, metadata: Any = None, *args: Any, **kwargs: Any) -> None:
            target.add_display(data, metadata, kwargs.get("transient"), bool(kwargs.get("update")))

        def clear_output(self, wait: bool = False) -> None:
            target.clear()

    shell = InteractiveShell.instance() if InteractiveShell.initialized() else None
    saved_stdout = sys.stdout
    if shell is not None:
        saved_pub = shell.display_pub
        shell.display_pub = _Publisher(shell=shell)
    sys.stdout = _Stream(target, "stdout")
    try:
        yield
    finally:
        sys.stdout = saved_stdout
        if shell is not None:
            shell.display_pub = saved_pub


def _publish_display(data: Mapping[str, Any], metadata: Mapping[str, Any] | None = None) -> None:
    from IPython.display import publish_display_data

    publish_display_data(dict(data), dict(metadata or {}))


def _render_flushing_figures(render: Render, value: Any, publish: Callable[..., None]) -> None:
    """``render(value)``, then display the Matplotlib figures it left open and close every one it made."""
    plt = sys.modules.get("matplotlib.pyplot")  # without pyplot loaded, render makes no pyplot figure...
    before = set(plt.get_fignums()) if plt is not None else set()
    render(value)
    plt = plt or sys.modules.get("matplotlib.pyplot")  # ...unless render imports it
    if plt is None:
        return
    for num in sorted(set(plt.get_fignums()) - before):
        fig = plt.figure(num)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        publish({"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": repr(fig)})
        plt.close(fig)
