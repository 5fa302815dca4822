"""Exercises with automatic grading that explains what went wrong (all chapters).

A chapter asks the learner to write a function, then calls a ``grade_<name>``
function on it. The grader runs the learner's function on several cases, compares
the answers with a reference and returns an :class:`ExerciseResult`: whether it
passed and, if not, *which* case failed, with the expected and the received
shapes and values. A grader never raises: an error inside the learner's code is
reported in the result.

One module per chapter, named like the library module the chapter builds
(``exercises.digital`` for Chapter 1, ``exercises.spectral`` for Chapter 2, ``exercises.conv`` for
Chapter 3, ``exercises.rnn`` for Chapter 4, ...), each
holding its ``grade_*`` functions. The worked solutions are in the subpackage
``exercises.solutions`` (one module per chapter again), which the student edition leaves out
(:mod:`audiomap_lib.classroom`); no grader calls them. The
shared framework (:class:`ExerciseResult`, :func:`run_cases`,
:func:`compare_values`, :func:`register`) is in :mod:`.core`. Everything is
re-exported here, so ``from audiomap_lib.exercises import grade_flip`` works.
The book shows the solutions behind a toggle; the tests check that every
solution passes its grader and that the notebook shows its exact code. (Graders are not named ``check_``: across the course a
``check_`` function validates an argument and raises.)
"""
from __future__ import annotations

from . import attention, cnn, conv, core, digital, gan, rnn, spectral, style
from .attention import *  # noqa: F401,F403
from .cnn import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .digital import *  # noqa: F401,F403
from .gan import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .spectral import *  # noqa: F401,F403
from .style import *  # noqa: F401,F403

__all__ = [
    *core.__all__,
    *digital.__all__,
    *spectral.__all__,
    *conv.__all__,
    *rnn.__all__,
    *attention.__all__,
    *cnn.__all__,
    *gan.__all__,
    *style.__all__,
]
