"""Build the offline corpora: ``python -m audiomap_lib.data build [--profile P] [--root DIR] [--force] [--only C]``.

Builds the spoken digits (Chapter 1) and the drum hits (WaveGAN chapters) for a
profile, and prints where they are, the clips per split and family, what was
skipped and the time taken. ``make corpora`` calls it. The instrument notes of
Chapter 8 are built with ``--only instruments`` (or on first use by the chapter).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from audiomap_lib.utils import PROFILES, get_profile

__all__ = ["main"]


def _print_report(name: str, manifest: Path, seconds: float) -> None:
    report_path = manifest.parent / "build_report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    print(f"{name}: {manifest} ({report.get('clips', '?')} clips, {seconds:.1f} s)")
    for split, counts in sorted(report.get("counts", {}).items()):
        print(f"  {split:<10} " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    if "skipped_count" in report:
        print(f"  skipped: {report['skipped_count']} (listed in {report_path})")
    if "left_out_count" in report:
        print(f"  left out (not kick/snare/hihat/tom/cymbal): {report['left_out_count']}")
    if "cropped_count" in report:
        print(f"  cropped to 16384 samples with a fade-out: {report['cropped_count']}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line. Returns the process exit status (0 on success)."""
    parser = argparse.ArgumentParser(prog="python -m audiomap_lib.data", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the offline corpora (cached unless --force)")
    build.add_argument("--profile", choices=PROFILES, default=None, help="default: $AUDIOMAP_PROFILE or standard")
    build.add_argument("--root", type=Path, default=None,
                       help="parent folder: corpora go to ROOT/digits, ROOT/drums, ROOT/instruments (default: the data cache)")
    build.add_argument("--force", action="store_true", help="rebuild even if a manifest exists")
    build.add_argument("--only", choices=("digits", "drums", "instruments"), default=None,
                       help="build one corpus only (instruments is built only when asked)")
    args = parser.parse_args(argv)

    from audiomap_lib.data.digits import build_spoken_digits
    from audiomap_lib.data.drums import build_drum_hits
    from audiomap_lib.data.instruments import build_instrument_notes

    profile = args.profile or get_profile()
    builders = {"digits": build_spoken_digits, "drums": build_drum_hits, "instruments": build_instrument_notes}
    total = time.perf_counter()
    for name, builder in builders.items():
        if args.only != name and (args.only is not None or name == "instruments"):
            continue
        root = args.root / name if args.root is not None else None
        start = time.perf_counter()
        try:
            manifest = builder(profile=profile, root=root, force=args.force)
        except RuntimeError as exc:
            print(f"{name}: not built: {exc}", file=sys.stderr)
            return 1
        _print_report(name, manifest, time.perf_counter() - start)
    print(f"profile {profile}: done in {time.perf_counter() - total:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
