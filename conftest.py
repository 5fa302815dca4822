"""pytest hooks for the chapters' notebooks (nbval).

When ``AUDIOMAP_EXECUTED_DIR`` is set, every notebook that nbval runs is also written there with
the outputs nbval received, so that ``scripts/course.py test`` can build the book from them
without executing each notebook a second time. nbval's client is blocking (no ``zmq.asyncio``),
so it is not subject to the lost-reply stall that book/_ext/audiomap_execution.py fixes.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat


def _outputs_of(item: Any) -> list[Any]:
    outputs = []
    for raw in getattr(item, "test_outputs", None) or []:
        out = nbformat.from_dict(dict(raw))
        if out.get("output_type") == "execute_result":
            out.setdefault("execution_count", None)
        outputs.append(out)
    return outputs


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
    path = Path(target) / Path(str(notebook.fspath)).name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".ipynb.part")
    nbformat.write(nb, str(tmp))
    tmp.replace(path)
