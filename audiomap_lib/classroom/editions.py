"""Student and teacher editions of the course's notebooks (the teacher's page of the book).

The notebooks in the repository are the book: each exercise has its worked solution in a
``:::{admonition} Solution`` dropdown, and cells tagged ``solution`` check or compute the
worked answers. From them:

* the **student edition** drops every solution block and every ``solution`` cell, and ships a
  copy of ``audiomap_lib`` without :mod:`audiomap_lib.exercises.solutions`. The checks
  (``grade_*``) and their hints stay, so a student still learns which case failed and why.
* the **teacher edition** keeps the solutions, each in a markdown cell of its own whose source is
  collapsed (``metadata.jupyter.source_hidden``) in JupyterLab and Notebook 7; the book's HTML
  already shows them collapsed (the ``dropdown`` class).
"""
from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

__all__ = [
    "SOLUTION_BLOCK",
    "SOLUTION_TAG",
    "make_student_notebook",
    "make_teacher_notebook",
    "build_editions",
    "find_repository_root",
]

SOLUTION_BLOCK = re.compile(r"^:::\{admonition\} Solutions?[^\n]*\n.*?^:::[ \t]*$\n?", re.S | re.M)
"""A worked-solution block in a markdown cell: from ``:::{admonition} Solution`` to its closing ``:::``."""

SOLUTION_TAG = "solution"
"""The tag of code cells that compute or check worked solutions (dropped from the student edition)."""

Notebook = dict[str, Any]


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _set_source(cell: dict[str, Any], text: str) -> None:
    cell["source"] = text.splitlines(keepends=True)


def _clear_outputs(nb: Notebook) -> None:
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb.get("metadata", {}).pop("widgets", None)


def _check_notebook(nb: object) -> Notebook:
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TypeError(f"nb must be a notebook (a dict with a 'cells' list, as json.load gives); got {type(nb).__name__}")
    return nb


def make_student_notebook(nb: Notebook) -> Notebook:
    """The student edition of one notebook: no solution block, no ``solution`` cell, no outputs.

    Args:
        nb: a notebook as ``json.load`` reads it (not modified).

    Returns:
        A new notebook. Markdown cells left empty by the removal are dropped.
    """
    out = copy.deepcopy(_check_notebook(nb))
    cells = []
    for cell in out["cells"]:
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell["cell_type"] == "markdown":
            text = SOLUTION_BLOCK.sub("", _source(cell))
            text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
            if not text:
                continue
            _set_source(cell, text)
        cells.append(cell)
    out["cells"] = cells
    _clear_outputs(out)
    return out


def make_teacher_notebook(nb: Notebook) -> Notebook:
    """The teacher edition of one notebook: each solution block in its own collapsed markdown cell.

    Args:
        nb: a notebook as ``json.load`` reads it (not modified).

    Returns:
        A new notebook whose solution cells carry the tag ``solution`` and
        ``metadata.jupyter.source_hidden = True``; no outputs.
    """
    out = copy.deepcopy(_check_notebook(nb))
    cells: list[dict[str, Any]] = []
    for cell in out["cells"]:
        if cell["cell_type"] != "markdown" or not SOLUTION_BLOCK.search(_source(cell)):
            cells.append(cell)
            continue
        text, pos, k = _source(cell), 0, 0
        pieces: list[tuple[str, bool]] = []
        for m in SOLUTION_BLOCK.finditer(text):
            pieces += [(text[pos:m.start()], False), (m.group(0), True)]
            pos = m.end()
        pieces.append((text[pos:], False))
        for piece, is_solution in pieces:
            piece = piece.strip("\n")
            if not piece:
                continue
            new = {"cell_type": "markdown", "id": f"{cell.get('id', 'cell')}-{k}", "metadata": copy.deepcopy(cell.get("metadata", {})),
                   "source": []}
            k += 1
            _set_source(new, piece)
            if is_solution:
                new["metadata"].setdefault("tags", []).append(SOLUTION_TAG)
                new["metadata"].setdefault("jupyter", {})["source_hidden"] = True
            cells.append(new)
    for cell in cells:
        if cell["cell_type"] == "code" and SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            cell["metadata"].setdefault("jupyter", {})["source_hidden"] = True
    out["cells"] = cells
    _clear_outputs(out)
    return out


def find_repository_root(start: Path | None = None) -> Path:
    """The course repository that holds ``notebooks/`` and ``audiomap_lib/`` (this package's, by default)."""
    here = Path(start) if start is not None else Path(__file__).resolve().parents[2]
    if not (here / "notebooks").is_dir() or not (here / "audiomap_lib").is_dir():
        raise FileNotFoundError(
            f"source must be the course repository (with notebooks/ and audiomap_lib/); {here} is not: "
            "pass --source /path/to/audiomap")
    return here


_STUDENT_README = """# AudioMap: the student edition

The chapters' notebooks with their exercises and automatic checks, without the worked
solutions. Install once, then open the notebooks:

```bash
python3 -m venv .venv && .venv/bin/pip install -r requirements.lock && .venv/bin/pip install -e .
.venv/bin/jupyter lab notebooks/
```

Each exercise asks for a function `my_...` and runs its check: the check says which case failed
and why. Hand in the notebook file itself; your teacher grades it with the same checks.
"""

_TEACHER_README = """# AudioMap: the teacher edition

The chapters' notebooks with the worked solutions collapsed under each exercise (click the
collapsed cell to open it). Grade a folder of submitted notebooks of one chapter with

```bash
python -m audiomap_lib.classroom grade SUBMISSIONS_DIR --chapter 3 --out grades
```

which writes `grades.csv` and `grades.json`: one row per submission, the points of each exercise
and the check's message for each failure. See the book's page "For teachers".
"""


def build_editions(out_dir: str | Path, source: str | Path | None = None) -> dict[str, Path]:
    """Write ``student/`` and ``teacher/`` under ``out_dir`` (replacing them).

    Args:
        out_dir: where the two editions go.
        source: the course repository (default: the one this package was installed from).

    Returns:
        ``{"student": path, "teacher": path}``.

    Raises:
        FileNotFoundError: ``source`` is not the course repository.
    """
    root = find_repository_root(Path(source) if source is not None else None)
    out = Path(out_dir)
    paths = {"student": out / "student", "teacher": out / "teacher"}
    for path in paths.values():
        if path.exists():
            shutil.rmtree(path)
        (path / "notebooks").mkdir(parents=True)
    for src in sorted((root / "notebooks").glob("*.ipynb")):
        nb = json.loads(src.read_text(encoding="utf-8"))
        for edition, make in (("student", make_student_notebook), ("teacher", make_teacher_notebook)):
            target = paths[edition] / "notebooks" / src.name
            target.write_text(json.dumps(make(nb), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    ignore_cache = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(root / "audiomap_lib", paths["student"] / "audiomap_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "solutions"))
    shutil.copytree(root / "audiomap_lib", paths["teacher"] / "audiomap_lib", ignore=ignore_cache)
    for edition, readme in (("student", _STUDENT_README), ("teacher", _TEACHER_README)):
        for name in ("pyproject.toml", "requirements.lock", "LICENSE"):
            if (root / name).exists():
                shutil.copy2(root / name, paths[edition] / name)
        (paths[edition] / "README.md").write_text(readme, encoding="utf-8")
    return paths
