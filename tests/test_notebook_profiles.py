"""Profile-dependent values of the notebooks, checked for every profile without running the notebooks.

A value chosen with ``by_profile(quick=..., standard=..., full=...)`` is executed in CI only for
``quick``; these tests read the notebooks' code with :mod:`ast` and check what the cells would
assert, or need, in ``standard`` and ``full`` too (issue 13: Chapter 1's 20 kHz tone at 8 kHz
failed only in ``full``).
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from audiomap_lib.digital import compute_alias_frequency

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
PROFILES = ("quick", "standard", "full")


def _code(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = []
    for cell in cells:
        if cell["cell_type"] == "code":
            lines += [ln for ln in "".join(cell["source"]).splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def _by_profile_calls(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "by_profile"]


def _assigned(tree: ast.AST, name: str) -> ast.Call:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            assert isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) == "by_profile", name
            return node.value
    raise AssertionError(f"no `{name} = by_profile(...)` in the notebook")


def _values(call: ast.Call) -> dict[str, object]:
    return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg in PROFILES}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_by_profile_call_names_all_three_profiles(path: Path) -> None:
    tree = ast.parse(_code(path))
    for call in _by_profile_calls(tree):
        names = [kw.arg for kw in call.keywords if kw.arg in PROFILES]
        assert sorted(names) == sorted(PROFILES) or len(call.args) >= 3, (path.name, ast.unparse(call))


@pytest.mark.parametrize("profile", PROFILES)
def test_chapter1_alias_tones_are_measurable_in_every_profile(profile: str) -> None:
    tree = ast.parse(_code(NOTEBOOKS[0]))
    tones = _values(_assigned(tree, "test_freqs"))[profile]
    sr_alias = next(ast.literal_eval(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign)
                    and any(getattr(t, "id", None) == "sr_alias" for t in n.targets))
    for f in tones:  # the cell's own condition: a tone aliasing to 0 Hz or to Nyquist samples only zeros
        assert 0 < compute_alias_frequency(f, sr_alias) < sr_alias / 2, (profile, f)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "SEEDS = by_profile" in _code(p)], ids=lambda p: p.stem)
def test_seed_studies_have_several_distinct_seeds(path: Path) -> None:
    seeds = _values(_assigned(ast.parse(_code(path)), "SEEDS"))
    for profile, values in seeds.items():
        assert len(set(values)) == len(values), (profile, values)  # a repeated seed repeats a run
        assert len(values) >= (2 if profile == "quick" else 3), (path.name, profile, values)
    assert list(seeds["standard"]) == list(seeds["full"])[: len(seeds["standard"])]  # full extends standard
