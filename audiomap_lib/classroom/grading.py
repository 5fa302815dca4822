"""Grading a class's submitted notebooks with otter-grader and the course's own checks.

Why otter-grader: its exception-based test files are plain Python functions that pass or raise,
which is what the course's checks already are (a ``grade_*`` function returns a result that
names the failing case), and its local ``otter run`` grades a notebook without Docker or a
course database (nbgrader needs both a database and its own cell metadata in every notebook).
For each chapter :func:`write_autograder` writes one otter test file per exercise and zips them
with ``otter generate``; :func:`grade_folder` runs ``otter run`` on each submission and writes
one CSV row (and one JSON record) per student.

What the course adds, because otter runs its tests inside the student's own kernel:

* The student's notebook is **not executed** (the otter plugin :class:`DefinitionsOnly` empties
  it). Each test reads the submitted file and keeps only its imports, function and class
  definitions and constant assignments (:func:`extract_definitions`): top-level code that
  redefines a check, patches the library or never ends does not run.
* Each exercise is graded in a **fresh Python process** with a time limit
  (:func:`grade_exercise`): a function that never returns costs that exercise only, and nothing
  a submission defines survives into the next exercise.
* After grading, the process checks that the graders' modules are unchanged; a submission that
  patched them gets no point for that exercise.

Limits: code that runs can still do anything its process may do (read files, patch ``torch``).
For an exam, run the command in a container or a throw-away account.
"""
from __future__ import annotations

import ast
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ExerciseGrade",
    "find_chapter_exercises",
    "extract_definitions",
    "grade_exercises",
    "grade_exercise",
    "assert_exercise_passes",
    "write_autograder",
    "grade_folder",
]

DEFAULT_TIMEOUT_S = 60.0
"""Seconds one exercise of one submission may take (the student's function and its check)."""

CHAPTER_NOTEBOOKS = {1: "01_audio_as_data", 2: "02_spectrograms", 3: "03_convolution", 4: "04_gru", 5: "05_attention",
                     6: "06_raw_waveform_cnn", 7: "07_wavegan", 8: "08_style_transfer"}
"""The notebook of each chapter (in ``notebooks/`` of the repository and of both editions)."""

_GRADE_CALL = re.compile(r"^\s*(?:\w+\s*=\s*)?grade_(\w+)\(\s*(\w+)\s*\)", re.M)


@dataclass
class ExerciseGrade:
    """One exercise of one submission.

    Attributes:
        exercise: the exercise's name (a key of ``audiomap_lib.exercises.EXERCISES``).
        function: the name of the function the student writes, e.g. ``"my_convolve"``.
        passed: whether every case of the check passed.
        message: the check's one-line verdict, or why no check could run.
        details: the check's further lines (failing case, expected and received values, hint).
    """

    exercise: str
    function: str
    passed: bool
    message: str
    details: list[str] = field(default_factory=list)


def find_chapter_exercises(notebook: str | Path | dict[str, Any]) -> dict[str, str]:
    """Exercise name -> the student's function name, from a chapter's ``grade_<name>(<function>)`` cells.

    Args:
        notebook: a path to a pristine chapter notebook, or the notebook as ``json.load`` gives it.

    Returns:
        The exercises in the order the chapter sets them.
    """
    nb = json.loads(Path(notebook).read_text(encoding="utf-8")) if isinstance(notebook, (str, Path)) else notebook
    found: dict[str, str] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            for name, function in _GRADE_CALL.findall("".join(cell.get("source", ""))):
                found.setdefault(name, function)
    return found


def _is_constant(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def extract_definitions(notebook: str | Path) -> str:
    """The part of a submitted notebook that grading runs: imports, ``def``/``class`` and constants.

    IPython syntax (``%magic``, ``!shell``) is translated first; a cell that still does not parse
    is skipped. Every other statement (calls, loops, assignments of computed values) is dropped.

    Args:
        notebook: path of the submitted ``.ipynb``.

    Returns:
        Python source.

    Raises:
        ValueError: the file is not a notebook.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
        cells = [c for c in nb["cells"] if c.get("cell_type") == "code"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"notebook must be a Jupyter notebook (.ipynb JSON); {notebook} is not: {exc}") from exc
    transform = TransformerManager().transform_cell
    kept: list[str] = []
    for cell in cells:
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        try:
            code = transform(src)
            tree = ast.parse(code)
        except (SyntaxError, ValueError, IndexError):
            continue
        for node in tree.body:
            keep = isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or (
                isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _is_constant(node.value))
            if keep:
                kept.append(ast.get_source_segment(code, node) or ast.unparse(node))
    return "\n\n".join(kept) + "\n"


def _module_fingerprint() -> dict[str, dict[str, int]]:
    """``id`` of every attribute of the grading modules: a submission that patches one shows."""
    from .. import exercises

    mods = {name: mod for name, mod in sys.modules.items()
            if name.startswith(exercises.__name__) and mod is not None}
    prints = {name: {k: id(v) for k, v in vars(mod).items()} for name, mod in mods.items()}
    prints["ExerciseResult"] = {k: id(v) for k, v in vars(exercises.ExerciseResult).items()}
    return prints


def _worker(notebook: str, plan_json: str, results_path: str) -> None:
    """Run in a fresh process: load the submission's definitions once, then run each check in turn,
    appending one JSON line per exercise to ``results_path`` as soon as it is known."""
    import io

    from .. import exercises

    plan: list[list[str]] = json.loads(plan_json)  # [[exercise, function], ...]
    graders = {name: exercises.EXERCISES[name]["grade"] for name, _ in plan}
    before = _module_fingerprint()
    namespace: dict[str, Any] = {"__name__": "submission"}
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = io.StringIO()  # the student's prints are not the report
    load_error = None
    try:
        exec(compile(extract_definitions(notebook), "<submission>", "exec"), namespace)
    except Exception as exc:  # the student's imports or definitions fail
        load_error = f"the submission's definitions raised {type(exc).__name__}: {exc}"
    tampered = False
    with open(results_path, "a", encoding="utf-8") as out:
        for name, function in plan:
            record: dict[str, Any] = {"exercise": name, "passed": False, "details": []}
            fn = namespace.get(function)
            if tampered:
                record["message"] = "the submission changed the course's checks while it was graded: no point"
            elif load_error is not None:
                record["message"] = load_error
            elif not callable(fn):
                record["message"] = f"the submission defines no function {function}"
            else:
                result = graders[name](fn)
                record.update(passed=bool(result.passed), message=str(result.message),
                              details=[str(d) for d in result.details])
            after = _module_fingerprint()
            if tampered or any(after.get(mod) != attrs for mod, attrs in before.items()):
                tampered = True
                record.update(passed=False, message="the submission changed the course's checks while it was graded: no point",
                              details=[])
            out.write(json.dumps(record) + "\n")
            out.flush()
    sys.stdout, sys.stderr = real_out, real_err


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written
            break
    return records


def grade_exercises(notebook: str | Path, plan: dict[str, str], timeout_s: float = DEFAULT_TIMEOUT_S) -> dict[str, ExerciseGrade]:
    """Grade several exercises of a submitted notebook, in a fresh Python process, each with a time limit.

    One process loads the submission's definitions (:func:`extract_definitions`) and runs the checks
    in turn. When an exercise overruns ``timeout_s``, the process is killed, that exercise fails,
    and a new process grades the rest.

    Args:
        notebook: the submitted ``.ipynb``.
        plan: exercise name (a key of ``audiomap_lib.exercises.EXERCISES``) -> the function it asks for.
        timeout_s: seconds each exercise may take (the first one also pays for the process's start).

    Returns:
        exercise -> :class:`ExerciseGrade`, in the order of ``plan``. It never raises for what the
        submission does.

    Raises:
        KeyError: an exercise is not registered.
        ValueError: ``timeout_s`` is not positive.
    """
    import time

    from ..exercises import EXERCISES

    unknown = [name for name in plan if name not in EXERCISES]
    if unknown:
        raise KeyError(f"exercise must be one of {sorted(EXERCISES)}; got {unknown}")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be positive (seconds); got {timeout_s!r}")
    grades: dict[str, ExerciseGrade] = {}
    todo = list(plan.items())
    with tempfile.TemporaryDirectory(prefix="audiomap-grade-") as tmp:
        run = 0
        while todo:
            results_path = Path(tmp) / f"results-{run}.jsonl"
            run += 1
            cmd = [sys.executable, "-c",
                   "import sys; from audiomap_lib.classroom.grading import _worker; _worker(*sys.argv[1:4])",
                   str(Path(notebook).resolve()), json.dumps(todo), str(results_path)]
            env = dict(os.environ, MPLBACKEND="Agg", AUDIOMAP_PROFILE=os.environ.get("AUDIOMAP_PROFILE", "quick"))
            proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    start_new_session=True)
            done, deadline = 0, time.monotonic() + timeout_s
            while True:
                records = _read_lines(results_path)
                for r in records[done:]:
                    grades[r["exercise"]] = ExerciseGrade(r["exercise"], plan[r["exercise"]], bool(r["passed"]),
                                                          str(r["message"]), [str(d) for d in r["details"]])
                if len(records) > done:
                    done, deadline = len(records), time.monotonic() + timeout_s
                if done == len(todo) or proc.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    os.killpg(proc.pid, signal.SIGKILL)
                    break
                time.sleep(0.05)
            proc.wait()
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
            for r in _read_lines(results_path)[done:]:  # written between the last look and the exit
                grades[r["exercise"]] = ExerciseGrade(r["exercise"], plan[r["exercise"]], bool(r["passed"]),
                                                      str(r["message"]), [str(d) for d in r["details"]])
            todo = [(name, fn) for name, fn in todo if name not in grades]
            if todo:  # the next exercise overran its time, or the process died during it
                name, function = todo.pop(0)
                if proc.returncode == -signal.SIGKILL:
                    grades[name] = ExerciseGrade(name, function, False,
                                                 f"{function} did not finish within the time limit of {timeout_s:g} s")
                else:
                    grades[name] = ExerciseGrade(name, function, False,
                                                 f"grading {function} ended without a result (exit code {proc.returncode})",
                                                 err.strip().splitlines()[-3:])
    return {name: grades[name] for name in plan}


def grade_exercise(notebook: str | Path, exercise: str, function: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> ExerciseGrade:
    """Grade one exercise of a submitted notebook: :func:`grade_exercises` with a plan of one."""
    return grade_exercises(notebook, {exercise: function}, timeout_s)[exercise]


_CACHE = ".audiomap-grades.json"


def assert_exercise_passes(exercise: str, plan: dict[str, str], timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
    """The body of each otter test: grade the one notebook in the working directory, raise if ``exercise`` fails.

    The first test grades the whole ``plan`` in one process (:func:`grade_exercises`) and keeps the
    results in the working directory; the other tests read them.

    Raises:
        AssertionError: with the check's message and details, when the exercise does not pass.
    """
    notebooks = sorted(Path.cwd().glob("*.ipynb"))
    if len(notebooks) != 1:
        raise AssertionError(f"expected one submitted notebook in {Path.cwd()}, found {len(notebooks)}")
    cache = Path.cwd() / _CACHE
    if cache.exists():
        grades = json.loads(cache.read_text(encoding="utf-8"))
    else:
        grades = {name: {"passed": g.passed, "message": g.message, "details": g.details}
                  for name, g in grade_exercises(notebooks[0], plan, timeout_s).items()}
        cache.write_text(json.dumps(grades), encoding="utf-8")
    grade = grades[exercise]
    assert grade["passed"], "\n".join([grade["message"], *grade["details"]])


_TEST_FILE = '''"""otter test for exercise {exercise!r} of Chapter {chapter} (written by audiomap_lib.classroom)."""
from otter.test_files import test_case

OK_FORMAT = False
PLAN = {plan!r}  # every exercise of the chapter -> the function it asks for (graded together, once)
name = {exercise!r}
points = {points!r}


@test_case(points={points!r}, hidden=False)
def test_{exercise}():
    from audiomap_lib.classroom.grading import assert_exercise_passes

    assert_exercise_passes({exercise!r}, PLAN, timeout_s={timeout_s!r})
'''


def write_autograder(chapter: int, out_dir: str | Path, source: str | Path | None = None,
                     timeout_s: float = DEFAULT_TIMEOUT_S, points: float = 1.0) -> Path:
    """otter's autograder for one chapter: a test file per exercise, zipped by ``otter generate``.

    Args:
        chapter: 1 to 8.
        out_dir: where ``tests/``, ``otter_config.json`` and ``autograder.zip`` are written.
        source: the course repository (default: this package's).
        timeout_s: the time limit of each exercise, in seconds.
        points: the points of each exercise.

    Returns:
        The path of ``autograder.zip``.

    Raises:
        ValueError: an unknown chapter, or a chapter without checked exercises.
    """
    from .editions import find_repository_root

    if chapter not in CHAPTER_NOTEBOOKS:
        raise ValueError(f"chapter must be one of {sorted(CHAPTER_NOTEBOOKS)}; got {chapter!r}")
    root = find_repository_root(Path(source) if source is not None else None)
    exercises = find_chapter_exercises(root / "notebooks" / f"{CHAPTER_NOTEBOOKS[chapter]}.ipynb")
    if not exercises:
        raise ValueError(f"Chapter {chapter} has no checked exercise (no grade_<name>(<function>) cell)")
    out = Path(out_dir)
    tests = out / "tests"
    if tests.exists():
        shutil.rmtree(tests)
    tests.mkdir(parents=True)
    for exercise in exercises:
        (tests / f"{exercise}.py").write_text(_TEST_FILE.format(exercise=exercise, plan=exercises, chapter=chapter,
                                                                points=points, timeout_s=timeout_s), encoding="utf-8")
    config = {"plugins": ["audiomap_lib.classroom.otter_plugin.DefinitionsOnly"]}
    (out / "otter_config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    zip_path = out / "autograder.zip"
    zip_path.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "otter", "generate", "-t", "tests", "-c", "otter_config.json", "-o", "autograder.zip"],
                   cwd=out, check=True, stdout=subprocess.DEVNULL)
    with zipfile.ZipFile(zip_path) as z:
        missing = {f"tests/{e}.py" for e in exercises} - set(z.namelist())
    if missing:
        raise RuntimeError(f"otter generate left out {sorted(missing)} from {zip_path}")
    return zip_path


def _read_otter_results(path: Path, exercises: dict[str, str]) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    by_name = {t.get("name"): t for t in data.get("tests", [])}
    rows = {}
    for exercise in exercises:
        test = by_name.get(exercise, {})
        output = str(test.get("output", "no result from otter"))
        lines = [ln.strip() for ln in output.splitlines()]
        passed = "All test cases passed!" in output
        message = ""
        if not passed:  # otter prints the assertion as "AssertionError: <message>" then its details
            after = [ln for ln in lines if ln.startswith("AssertionError:")]
            message = after[0][len("AssertionError:"):].strip() if after else (lines[-1] if lines else output)
        rows[exercise] = {"points": float(test.get("score") or 0.0), "max_points": float(test.get("max_score") or 0.0),
                          "passed": passed, "message": message}
    return rows


def grade_folder(submissions: str | Path, chapter: int, out: str | Path, source: str | Path | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, points: float = 1.0) -> list[dict[str, Any]]:
    """Grade every ``*.ipynb`` in a folder with otter; write ``<out>.csv`` and ``<out>.json``.

    A submission's name is its file name without ``.ipynb``. A submission that otter cannot grade
    at all (not a notebook, or ``otter run`` itself fails) gets 0 points and the reason, and the
    others are still graded.

    Args:
        submissions: a folder of submitted notebooks of one chapter.
        chapter: the chapter they answer.
        out: path prefix of the reports, e.g. ``grades`` for ``grades.csv`` and ``grades.json``.
        source: the course repository (default: this package's).
        timeout_s: the time limit of each exercise, in seconds.
        points: the points of each exercise.

    Returns:
        One record per submission: ``student``, ``total``, ``max_total`` and, per exercise,
        ``points``, ``passed`` and ``message``.

    Raises:
        NotADirectoryError: ``submissions`` is not a folder.
        FileNotFoundError: it holds no ``.ipynb``.
    """
    from .editions import find_repository_root

    folder = Path(submissions)
    if not folder.is_dir():
        raise NotADirectoryError(f"submissions must be a folder of .ipynb files; got {folder}")
    files = sorted(folder.glob("*.ipynb"))
    if not files:
        raise FileNotFoundError(f"submissions: no .ipynb file in {folder}")
    root = find_repository_root(Path(source) if source is not None else None)
    exercises = find_chapter_exercises(root / "notebooks" / f"{CHAPTER_NOTEBOOKS[chapter]}.ipynb")
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="audiomap-otter-") as tmp:
        autograder = write_autograder(chapter, Path(tmp) / "autograder", root, timeout_s, points)
        for i, path in enumerate(files):
            result_dir = Path(tmp) / f"results-{i}"
            result_dir.mkdir()
            record: dict[str, Any] = {"student": path.stem, "total": 0.0, "max_total": points * len(exercises)}
            overall_s = timeout_s * len(exercises) + 120  # otter's own start and the kernel
            try:
                proc = subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(autograder), "-o", str(result_dir),
                                       str(path.resolve())], capture_output=True, timeout=overall_s)
                failure = None if (result_dir / "results.json").exists() else (
                    f"otter could not grade this file (exit code {proc.returncode}): "
                    + " ".join(proc.stderr.decode(errors="replace").strip().splitlines()[-1:]))
            except subprocess.TimeoutExpired:
                failure = f"otter did not finish within {overall_s:g} s"
            if failure is None:
                results = _read_otter_results(result_dir / "results.json", exercises)
            else:
                results = {e: {"points": 0.0, "max_points": points, "passed": False, "message": failure} for e in exercises}
            for exercise, r in results.items():
                record[f"{exercise}.points"] = r["points"]
                record[f"{exercise}.passed"] = r["passed"]
                record[f"{exercise}.message"] = r["message"]
                record["total"] += r["points"]
            records.append(record)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    columns = ["student", "total", "max_total"] + [f"{e}.{k}" for e in exercises for k in ("points", "passed", "message")]
    with open(out.with_suffix(".csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(records)
    out.with_suffix(".json").write_text(json.dumps({"chapter": chapter, "exercises": exercises, "submissions": records},
                                                   indent=1), encoding="utf-8")
    return records
