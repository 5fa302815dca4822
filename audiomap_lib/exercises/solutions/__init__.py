"""The worked solutions of every exercise (teacher edition only).

One module per chapter, named like the grader module in :mod:`audiomap_lib.exercises`. The
solution of exercise ``name`` is the function ``solution_<name>``; :data:`SOLUTIONS` maps each
registered exercise to it. The graders never call these functions: they check against the
library (or a property), so the student edition, built without this package
(``python -m audiomap_lib.classroom editions``), grades exactly as the teacher's does.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import core
from . import attention, cnn, conv, digital, gan, rnn, spectral, style
from .attention import *  # noqa: F401,F403
from .cnn import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .digital import *  # noqa: F401,F403
from .gan import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .spectral import *  # noqa: F401,F403
from .style import *  # noqa: F401,F403

_MODULES = (digital, spectral, conv, rnn, attention, cnn, gan, style)

SOLUTIONS: dict[str, Callable[..., Any]] = {
    name[len("solution_"):]: getattr(module, name) for module in _MODULES for name in module.__all__
}
"""Exercise name -> its worked solution (the same keys as :data:`audiomap_lib.exercises.EXERCISES`)."""

__all__ = [
    "SOLUTIONS",
    *digital.__all__,
    *spectral.__all__,
    *conv.__all__,
    *rnn.__all__,
    *attention.__all__,
    *cnn.__all__,
    *gan.__all__,
    *style.__all__,
]

if set(SOLUTIONS) != set(core.EXERCISES):  # a new grader without a solution, or the reverse
    raise RuntimeError(f"exercises and solutions differ: {sorted(set(SOLUTIONS) ^ set(core.EXERCISES))}")
