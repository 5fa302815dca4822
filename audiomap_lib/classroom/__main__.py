"""``python -m audiomap_lib.classroom editions OUT`` | ``grade SUBMISSIONS --chapter N --out PREFIX``."""
from __future__ import annotations

import argparse
import sys

from .editions import build_editions
from .grading import DEFAULT_TIMEOUT_S, grade_folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audiomap_lib.classroom", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ed = sub.add_parser("editions", help="write student/ and teacher/ editions of the notebooks")
    ed.add_argument("out", help="folder that receives student/ and teacher/")
    ed.add_argument("--source", default=None, help="the course repository (default: this package's)")
    gr = sub.add_parser("grade", help="grade a folder of submitted notebooks of one chapter")
    gr.add_argument("submissions", help="folder of .ipynb files, one per student")
    gr.add_argument("--chapter", type=int, required=True, help="the chapter the notebooks answer (1-8)")
    gr.add_argument("--out", default="grades", help="path prefix of the reports (default: grades -> grades.csv, grades.json)")
    gr.add_argument("--timeout-s", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per exercise and submission")
    gr.add_argument("--points", type=float, default=1.0, help="points per exercise")
    gr.add_argument("--source", default=None, help="the course repository (default: this package's)")
    args = parser.parse_args(argv)
    if args.command == "editions":
        for edition, path in build_editions(args.out, args.source).items():
            print(f"{edition} edition: {path}")
        return 0
    records = grade_folder(args.submissions, args.chapter, args.out, args.source, args.timeout_s, args.points)
    for r in records:
        print(f"{r['student']}: {r['total']:g} / {r['max_total']:g}")
    print(f"wrote {args.out}.csv and {args.out}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
