"""pytest hooks for the chapters' notebooks (nbval).

When ``AUDIOMAP_EXECUTED_DIR`` is set, every notebook that nbval runs is also written there with
the outputs nbval received, so that ``scripts/course.py test`` can build the book from them
without executing each notebook a second time. nbval's client is blocking (no ``zmq.asyncio``),
so it is not subject to the lost-reply stall that book/_ext/audiomap_execution.py fixes.

nbval ignores the kernel's comm messages, so unlike nbclient (``store_widget_state``) it keeps no
widget state; the saved notebook then gets the kernel's state, read at its last cell, in its
``widgets`` metadata, so that the book's precomputed sliders (``audiomap_lib.widgets``) work.
"""
from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest

WIDGET_STATE_MIMETYPE = "application/vnd.jupyter.widget-state+json"
# what the book's pages read: every widget of the kernel, as nbclient saves them (full state)
_WIDGET_STATE_EXPRESSION = ("__import__('json').dumps(__import__('ipywidgets').Widget.get_manager_state()) "
                            "if 'ipywidgets' in __import__('sys').modules else ''")


def _outputs_of(item: Any) -> list[Any]:
    outputs = []
    for raw in getattr(item, "test_outputs", None) or []:
        out = nbformat.from_dict(dict(raw))
        if out.get("output_type") == "execute_result":
            out.setdefault("execution_count", None)
        outputs.append(out)
    return outputs


def _widget_state_of(kernel: Any) -> dict[str, Any] | None:
    """The widget state of nbval's kernel (``None`` when it has no widgets), read without a cell."""
    reply = kernel.kc.execute("", silent=True, store_history=False, user_expressions={"state": _WIDGET_STATE_EXPRESSION},
                              reply=True, timeout=120)
    result = reply["content"].get("user_expressions", {}).get("state", {})
    if result.get("status") != "ok":
        raise RuntimeError(f"could not read the kernel's widget state: {result.get('ename')}: {result.get('evalue')}")
    text = ast.literal_eval(result["data"]["text/plain"])
    state = json.loads(text) if text else None
    return state if state and state["state"] else None


@pytest.hookimpl(tryfirst=True)  # before the notebook's teardown stops its kernel
def pytest_runtest_teardown(item: Any, nextitem: Any) -> None:
    target = os.environ.get("AUDIOMAP_EXECUTED_DIR")
    cell = getattr(item, "cell", None)
    if not target or cell is None or getattr(cell, "cell_type", None) != "code":
        return
    cell.outputs = _outputs_of(item)
    notebook = item.parent
    if nextitem is not None and nextitem.parent is notebook:
        return
    # the notebook's last cell: write it whole, atomically
    nb = notebook.nb
    kernel = getattr(notebook, "kernel", None)
    state = _widget_state_of(kernel) if kernel is not None and kernel.is_alive() else None
    if state is not None:
        nb.metadata["widgets"] = {WIDGET_STATE_MIMETYPE: state}
    path = Path(target) / Path(str(notebook.fspath)).name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".ipynb.part")
    nbformat.write(nb, str(tmp))
    tmp.replace(path)
