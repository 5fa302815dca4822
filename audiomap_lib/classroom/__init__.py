"""The course in a classroom: student and teacher editions, and grading a class (book: "For teachers").

* :mod:`.editions`: ``build_editions(out_dir)`` writes a student edition (no solution can be
  read, imported or run from it) and a teacher edition (solutions collapsed).
* :mod:`.grading`: ``grade_folder(submissions, chapter, out)`` grades every submitted notebook
  of a chapter with otter-grader and the course's checks, one CSV / JSON row per student.

From the shell: ``python -m audiomap_lib.classroom editions OUT`` and
``python -m audiomap_lib.classroom grade SUBMISSIONS --chapter N --out grades``.
"""
from __future__ import annotations

from .editions import build_editions, make_student_notebook, make_teacher_notebook
from .grading import (
    ExerciseGrade,
    extract_definitions,
    find_chapter_exercises,
    grade_exercise,
    grade_folder,
    write_autograder,
)

__all__ = [
    "build_editions",
    "make_student_notebook",
    "make_teacher_notebook",
    "ExerciseGrade",
    "extract_definitions",
    "find_chapter_exercises",
    "grade_exercise",
    "grade_folder",
    "write_autograder",
]
