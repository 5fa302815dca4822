"""No number with a unit is typed by hand in the chapters' prose (issue 13 §3).

DEVELOPERS.md: every number in the prose comes from executed code. A markdown cell that says
"a 250 Hz sine" while the code plays another tone is a drift nobody sees, so the prose shows the
code's values through ``{glue:text}`` roles. This test reads every chapter's markdown, removes what
is not typed prose (code, maths, roles, links, citations), and reports each number followed by a
unit (``10 ms``, ``16 kHz``, ``85 %``, ``4 heads``, ...).

A typed number may stay only when it is a fact from outside the code (the CD's 44.1 kHz, a
paper's parameter count, the name of the "6 dB per bit" rule) or a heading that names a setting
the code glues beside it; each such case is listed, with its reason, in
``tests/typed_numbers/<notebook>.txt`` as ``snippet | reason``. A number is allowed when it lies
inside an occurrence of an allowed snippet. An entry that no longer matches anything fails too, so
the lists never hold more than the prose needs.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ALLOWED_DIR = Path(__file__).resolve().parent / "typed_numbers"

UNITS = (
    r"dB|Hz|kHz|MHz|ms|s|seconds?|samples?|bits?|%|minutes?|min|hours?|steps?|clips?|frames?|taps?|"
    r"channels?|filters?|bins?|speakers?|epochs?|parameters?|mels?|iterations?|times|layers?|"
    r"words?|hits?|classes|points?|octaves?|heads?|bands?|voices?|kits?|semitones?|weights?|per\s?cent|"
    r"×|x"
)
NUMBER = r"(?<![\w.\-])[−-]?\d[\d,_]*(?:\.\d+)?(?:\s*(?:[–-]|to|and|or)\s*\d[\d,_]*(?:\.\d+)?)?"
HIT = re.compile(rf"{NUMBER}\s*(?:(?:{UNITS})(?![\w])|×)")

_STRIP = [
    (re.compile(r"```.*?```", re.S), " CODE "),
    (re.compile(r"\$\$.*?\$\$", re.S), " MATH "),
    (re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S), " MATH "),
    (re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$"), " MATH "),
    (re.compile(r"\{glue(?::\w+)?\}`[^`]*`"), "GLUE"),
    (re.compile(r"\{(?:cite|cite:\w+|numref|ref|doc|eq|download|term)\}`[^`]*`"), " REF "),
    (re.compile(r"``[^`]+``|`[^`\n]+`"), " CODE "),
    (re.compile(r"\]\([^)]*\)"), "]"),
    (re.compile(r"^\(\S+\)=\s*$", re.M), " "),
    (re.compile(r"<[^>\n]+>"), " "),
]


def clean_markdown(text: str) -> str:
    """The typed prose of one markdown cell: code, maths, roles, link targets and tags removed."""
    for pattern, repl in _STRIP:
        text = pattern.sub(repl, text)
    return text


def find_typed_numbers(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, match)`` of each number followed by a unit in the cleaned prose ``text``."""
    return [(m.start(), m.end(), m.group(0)) for m in HIT.finditer(text)]


def load_allowed(stem: str) -> list[tuple[str, str]]:
    """The ``(snippet, reason)`` pairs allowed for one notebook; an absent file allows nothing."""
    path = ALLOWED_DIR / f"{stem}.txt"
    if not path.exists():
        return []
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        snippet, sep, reason = line.partition(" | ")
        assert sep and snippet.strip() and reason.strip(), f"{path.name}: write 'snippet | reason', got {line!r}"
        pairs.append((snippet.strip(), reason.strip()))
    return pairs


def markdown_cells(path: Path) -> list[tuple[int, str]]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(i, clean_markdown("".join(c["source"]))) for i, c in enumerate(cells) if c["cell_type"] == "markdown"]


def check_notebook(path: Path) -> tuple[list[str], list[str]]:
    """``(unexplained, stale)``: typed numbers no allowed snippet covers, and snippets matching nothing."""
    allowed = load_allowed(path.stem)
    used = {snippet: False for snippet, _ in allowed}
    unexplained = []
    for index, text in markdown_cells(path):
        spans = []
        for snippet, _ in allowed:
            for m in re.finditer(re.escape(snippet), text):
                spans.append((m.start(), m.end()))
                used[snippet] = True
        for start, end, match in find_typed_numbers(text):
            if not any(a <= start and end <= b for a, b in spans):
                context = text[max(0, start - 40): end + 20].replace("\n", " ")
                unexplained.append(f"cell {index}: {match!r} in …{context}…")
    return unexplained, [s for s, hit in used.items() if not hit]


def test_the_scanner_finds_typed_numbers_and_ignores_glue_code_and_maths() -> None:
    text = clean_markdown(
        "A 250 Hz sine, {glue:text}`f:.0f` Hz glued, `n_fft = 512 samples` in code, $f_s = 8000$ Hz "
        "in maths, frames of 10–40 ms, 4 heads and 85 % accuracy, see {cite}`shannon1949communication`, "
        "[a link](https://x.org/16kHz), 3×3 filters, the year 2017, Chapter 3"
    )
    assert [m for *_, m in find_typed_numbers(text)] == ["250 Hz", "10–40 ms", "4 heads", "85 %", "3×", "3 filters"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_number_with_a_unit_is_typed_by_hand(path: Path) -> None:
    unexplained, stale = check_notebook(path)
    assert not unexplained, (
        f"{path.name}: glue these numbers from the code that produces them, or, for a fact from outside "
        f"the code, list them with a reason in tests/typed_numbers/{path.stem}.txt:\n" + "\n".join(unexplained)
    )
    assert not stale, f"tests/typed_numbers/{path.stem}.txt lists snippets the prose no longer has: {stale}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_glue_key_is_written_twice(path: Path) -> None:
    """The book build (``-W``) fails on a duplicate glue key; catch a literal one here, without a kernel."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    where: dict[str, list[int]] = {}
    for i, c in enumerate(cells):
        if c["cell_type"] == "code":
            for k in re.findall(r'glue\(\s*"([^"{}]+)"', "".join(c["source"])):
                where.setdefault(k, []).append(i)
    twice = {k: cells_of for k, cells_of in sorted(where.items()) if len(cells_of) > 1}
    assert not twice, f"{path.name} glues these keys more than once (key: code cells): {twice}"
