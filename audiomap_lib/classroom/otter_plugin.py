"""The otter-grader plugin of :mod:`audiomap_lib.classroom.grading` (imported by otter only).

otter executes a submission in a kernel before it runs the tests. The course's tests read the
submitted file themselves and grade each exercise in a fresh process, so the plugin hands otter
an empty notebook: the student's top-level code never runs inside the grader.
"""
from __future__ import annotations

from typing import Any

from otter.plugins import AbstractOtterPlugin

__all__ = ["DefinitionsOnly"]


class DefinitionsOnly(AbstractOtterPlugin):
    """Replace the submission that otter executes by a notebook with one empty code cell."""

    def before_execution(self, submission: Any) -> Any:
        import nbformat

        if isinstance(submission, str):  # a Python script
            return ""
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
        nb.metadata = submission.get("metadata", {})
        return nb
