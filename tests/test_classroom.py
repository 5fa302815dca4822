"""The classroom kit (audiomap_lib.classroom): student and teacher editions, grading a class with otter."""
from __future__ import annotations

import csv
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from audiomap_lib.classroom import editions, grading
from audiomap_lib.exercises import EXERCISES
from audiomap_lib.exercises.solutions import SOLUTIONS

ROOT = Path(__file__).resolve().parents[1]

RESTATE_THE_CHAPTER: set[str] = set()
"""Exercises whose answer shares lines with code the chapter itself builds in its text (the edition
could not remove those without removing the chapter). None does now; keep it that way."""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return editions.build_editions(tmp_path_factory.mktemp("editions"), ROOT)


def _student_text(student: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8", errors="replace") for p in student.rglob("*")
            if p.is_file() and p.suffix in {".py", ".ipynb", ".md", ".toml", ".json", ".txt", ".lock"}}


def test_student_edition_holds_no_solution(built: dict[str, Path]) -> None:
    student = built["student"]
    files = _student_text(student)
    assert len([p for p in files if p.suffix == ".ipynb"]) == len(list((ROOT / "notebooks").glob("*.ipynb")))
    assert not (student / "audiomap_lib" / "exercises" / "solutions").exists()
    for path, text in files.items():
        assert "solution_" not in text, f"{path} names a worked solution"
        if path.suffix == ".ipynb":
            assert "admonition} Solution" not in text, f"{path} shows a worked solution"
    corpus = "\n".join(files.values())
    for name, fn in SOLUTIONS.items():  # no line of any solution's body is left anywhere
        if name in RESTATE_THE_CHAPTER:
            continue
        body = [ln.strip() for ln in inspect.getsource(fn).splitlines()[1:]]
        distinctive = [ln for ln in body if len(ln) > 40 and not ln.startswith(('"""', "#"))]
        leaked = [ln for ln in distinctive if ln in corpus]
        assert not leaked, f"the student edition holds lines of the solution of {name!r}: {leaked}"


def test_student_edition_keeps_every_check_and_cannot_import_solutions(built: dict[str, Path]) -> None:
    student = built["student"]
    for chapter, stem in grading.CHAPTER_NOTEBOOKS.items():
        pristine = grading.find_chapter_exercises(ROOT / "notebooks" / f"{stem}.ipynb")
        assert grading.find_chapter_exercises(student / "notebooks" / f"{stem}.ipynb") == pristine, chapter
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import audiomap_lib, audiomap_lib.exercises as ex\n"
            "assert audiomap_lib.__file__.startswith(sys.argv[1]), audiomap_lib.__file__\n"
            "assert all(set(e) == {'chapter', 'grade', 'summary'} for e in ex.EXERCISES.values())\n"
            "try:\n    import audiomap_lib.exercises.solutions\nexcept ModuleNotFoundError:\n    print('no solutions')\n")
    out = subprocess.run([sys.executable, "-c", code, str(student)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "no solutions", out.stderr


def test_teacher_edition_collapses_each_solution_in_its_own_cell(built: dict[str, Path]) -> None:
    for src in sorted((ROOT / "notebooks").glob("*.ipynb")):
        pristine = json.loads(src.read_text())
        n_blocks = sum(len(editions.SOLUTION_BLOCK.findall("".join(c["source"]))) for c in pristine["cells"]
                       if c["cell_type"] == "markdown")
        teacher = json.loads((built["teacher"] / "notebooks" / src.name).read_text())
        hidden = [c for c in teacher["cells"] if c["metadata"].get("jupyter", {}).get("source_hidden")]
        solution_md = [c for c in hidden if c["cell_type"] == "markdown"]
        assert len(solution_md) == n_blocks, src.name
        for c in solution_md:  # the block alone: the next exercise's text stays visible
            text = "".join(c["source"])
            assert text.startswith(":::{admonition} Solution") and text.rstrip().endswith(":::")
            assert "### Exercise" not in text and "#### Checked exercise" not in text
        assert len({c["id"] for c in teacher["cells"]}) == len(teacher["cells"]), "cell ids stay unique"
    assert (built["teacher"] / "audiomap_lib" / "exercises" / "solutions" / "__init__.py").exists()


def test_every_solution_passes_after_the_round_trip_through_both_editions(built: dict[str, Path]) -> None:
    """The graders never call a solution, so the student edition grades as the teacher's does."""
    for name in EXERCISES:
        assert EXERCISES[name]["grade"](SOLUTIONS[name]).passed, name


# ---------------------------------------------------------------- grading a class


def _set_function(nb: dict, function: str, source: str) -> None:
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code" and f"def {function}(" in text:
            call = [ln for ln in text.splitlines() if ln.startswith("grade_")]
            cell["source"] = (source.strip() + "\n\n\n" + "\n".join(call) + "\n").splitlines(keepends=True)
            return
    raise AssertionError(f"no cell defines {function}")


def _solution_as(name: str, function: str) -> str:
    return inspect.getsource(SOLUTIONS[name]).replace(f"def solution_{name}(", f"def {function}(", 1)


def _add_cell(nb: dict, source: str) -> None:
    nb["cells"].append({"cell_type": "code", "id": f"extra-{len(nb['cells'])}", "metadata": {}, "outputs": [],
                        "execution_count": None, "source": source.splitlines(keepends=True)})


def _write_submissions(student_notebook: Path, folder: Path) -> None:
    nb0 = json.loads(student_notebook.read_text())
    exercises = grading.find_chapter_exercises(nb0)

    def make(**override: str) -> dict:
        nb = json.loads(json.dumps(nb0))
        for name, function in exercises.items():
            _set_function(nb, function, override.get(name, _solution_as(name, function)))
        return nb

    subs = {
        "ada_correct": make(),
        "ben_partly_wrong": make(
            pcm16_to_float="def my_pcm16_to_float(samples):\n    return torch.from_numpy(samples.astype(np.float32) / 32767.0)",
            quantization_snr_db="def my_quantization_snr_db(bits):\n    return 6.02 * bits + 1.76"),
        "cleo_raises": make(quantize="def my_quantize(x, bits):\n    raise ValueError('not today')"),
        "dan_never_returns": make(mu_law_compress="def my_mu_law_compress(x, mu=255):\n    while True:\n        pass"),
        "eve_tampers": make(),
    }
    _add_cell(subs["cleo_raises"], "1 / 0  # a cell that raises at top level")
    _add_cell(subs["dan_never_returns"], "while True:  # a cell that never ends\n    pass")
    # tampering: redefine a check at top level (never run), and patch the grader from a default argument
    _add_cell(subs["eve_tampers"], "from audiomap_lib.exercises import ExerciseResult\n"
                                   "def grade_alias_frequency(fn):\n    return ExerciseResult('alias_frequency', True, 'all passed')\n"
                                   "import audiomap_lib.exercises.digital as d\nd.run_cases = lambda *a, **k: ExerciseResult('x', True, 'ok')\n")
    _set_function(subs["eve_tampers"], "my_alias_frequency",
                  "def my_alias_frequency(freq_hz, sr, _=setattr(__import__('audiomap_lib.exercises.digital', fromlist=['d']),\n"
                  "        'run_cases', lambda *a, **k: __import__('audiomap_lib.exercises', fromlist=['e']).ExerciseResult('x', True, 'ok'))):\n"
                  "    return 0.0")
    folder.mkdir()
    for name, nb in subs.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(nb, indent=1))
    (folder / "fay_not_a_notebook.ipynb").write_text("this is not JSON")


@pytest.fixture(scope="module")
def report(built: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], Path]:
    tmp = tmp_path_factory.mktemp("grading")
    _write_submissions(built["student"] / "notebooks" / "01_audio_as_data.ipynb", tmp / "submissions")
    records = grading.grade_folder(tmp / "submissions", 1, tmp / "grades", ROOT, timeout_s=10.0)
    return records, tmp / "grades"


def test_grading_report_rows_and_points(report: tuple[list[dict], Path]) -> None:
    records, out = report
    by = {r["student"]: r for r in records}
    assert sorted(by) == ["ada_correct", "ben_partly_wrong", "cleo_raises", "dan_never_returns", "eve_tampers",
                          "fay_not_a_notebook"]
    assert all(r["max_total"] == 5 for r in records)
    assert by["ada_correct"]["total"] == 5
    ben = by["ben_partly_wrong"]
    assert ben["total"] == 3 and not ben["pcm16_to_float.passed"] and not ben["quantization_snr_db.passed"]
    assert "failed" in ben["pcm16_to_float.message"] and "expected" in ben["quantization_snr_db.message"]
    cleo = by["cleo_raises"]
    assert cleo["total"] == 4 and "ValueError: not today" in cleo["quantize.message"]
    dan = by["dan_never_returns"]
    assert dan["total"] == 4 and "time limit" in dan["mu_law_compress.message"]
    eve = by["eve_tampers"]
    assert eve["total"] == 0 and "changed the course's checks" in eve["alias_frequency.message"]
    fay = by["fay_not_a_notebook"]
    assert fay["total"] == 0 and fay["alias_frequency.message"]
    with open(out.with_suffix(".csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["student"] for r in rows] == [r["student"] for r in records]
    assert {r["student"]: float(r["total"]) for r in rows} == {r["student"]: r["total"] for r in records}
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["chapter"] == 1 and list(data["exercises"]) == list(grading.find_chapter_exercises(
        ROOT / "notebooks" / "01_audio_as_data.ipynb"))


def test_extract_definitions_keeps_definitions_only(tmp_path: Path) -> None:
    nb = {"cells": [{"cell_type": "code", "source": "%matplotlib inline\nimport math\nSR = 16_000\nx = math.sqrt(2)\n"
                     "def f(a):\n    return a + SR\nprint('hi')\n"},
                    {"cell_type": "code", "source": "def broken(:\n"},
                    {"cell_type": "markdown", "source": "def not_code(): pass"}]}
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nb))
    code = grading.extract_definitions(path)
    ns: dict = {}
    exec(code, ns)
    assert ns["f"](1) == 16_001 and "x" not in ns and "broken" not in code and "not_code" not in code and "print" not in code


def test_bad_arguments_get_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{")
    with pytest.raises(ValueError, match="notebook must be a Jupyter notebook"):
        grading.extract_definitions(bad)
    with pytest.raises(KeyError, match="exercise must be one of"):
        grading.grade_exercise(bad, "no_such_exercise", "f")
    with pytest.raises(ValueError, match="timeout_s must be positive"):
        grading.grade_exercise(bad, "flip", "f", timeout_s=0)
    with pytest.raises(ValueError, match="chapter must be one of"):
        grading.write_autograder(99, tmp_path)
    with pytest.raises(NotADirectoryError, match="submissions must be a folder"):
        grading.grade_folder(tmp_path / "nowhere", 1, tmp_path / "g")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .ipynb"):
        grading.grade_folder(tmp_path / "empty", 1, tmp_path / "g")
    with pytest.raises(FileNotFoundError, match="source must be the course repository"):
        editions.build_editions(tmp_path / "e", tmp_path)
    with pytest.raises(TypeError, match="nb must be a notebook"):
        editions.make_student_notebook([])  # type: ignore[arg-type]
