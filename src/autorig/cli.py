"""`autorig ...` entry points: rig, convert, eval, worker, serve, migrate.

Each command imports its implementation lazily, so `autorig serve` starts on a
machine without Blender and `autorig rig` does not load the web stack.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autorig.formats import listed
from autorig.protocol import Skeleton


def _rig(args: argparse.Namespace) -> int:
    from autorig.engine import cli_rig

    return cli_rig(args)


def _convert(args: argparse.Namespace) -> int:
    from autorig.engine import cli_convert

    return cli_convert(args)


def _eval(args: argparse.Namespace) -> int:
    if args.compare:
        from autorig.evaluation.report import main as report_main

        return report_main([str(p) for p in args.compare])
    from autorig.evaluation.run import cli_eval

    return cli_eval(args)


def _worker(args: argparse.Namespace) -> int:
    from autorig.worker.app import cli_worker

    return cli_worker(args)


def _serve(args: argparse.Namespace) -> int:
    from autorig.web.serve import cli_serve

    return cli_serve(args)


def _migrate(args: argparse.Namespace) -> int:
    from autorig.config import WebSettings
    from autorig.web.db.database import Database

    settings = WebSettings(_env_file=args.env_file)  # type: ignore[call-arg]
    db = Database(settings.database_url_resolved)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db.migrate_sync()
    print(f"autorig: database at the latest revision ({db.url.split('://', 1)[0]})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autorig", description="Automatic rigging of humanoid characters")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("rig", help="rig a model: skeleton, skin weights and the output files")
    r.add_argument("input", type=Path, help=f"{listed(suffixes=True)} (a model with its textures)")
    r.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    r.add_argument("--name", help="base name of the output files (default: the input's name)")
    r.add_argument("--skeleton", choices=[s.value for s in Skeleton], default=Skeleton.mixamo.value)
    r.add_argument("--mixamo-prefix", action="store_true", help="name bones mixamorig:Hips, ...")
    r.add_argument(
        "--fingers",
        choices=["auto", "full", "mitten", "none"],
        default="auto",
        help="finger bones: five fingers, a thumb and a mitten, or none; auto (the default) decides from the hand's shape",
    )
    r.add_argument("--only", choices=["rig", "all"], default="all", help="rig: just the rigged GLB/FBX and rig.json")
    r.set_defaults(func=_rig)

    c = sub.add_parser("convert", help="convert FBX (or any input) to GLB without rigging")
    c.add_argument("input", type=Path)
    c.add_argument("output", type=Path)
    c.set_defaults(func=_convert)

    e = sub.add_parser("eval", help="score the engine on artist-rigged characters")
    e.add_argument("--data", type=Path, default=None, help="evaluation folder (default: AUTORIG_EVAL_DATA or ../shared/eval)")
    e.add_argument("--only", nargs="*", default=None, help="character names (default: all)")
    e.add_argument("--json", type=Path, default=None, help="write the results here")
    e.add_argument("--no-baseline", action="store_true", help="skip Blender's bone heat baseline")
    e.add_argument("--poses", type=int, default=20, help="random poses per character for the skinning score")
    e.add_argument(
        "--augment",
        action="store_true",
        help="rig augmented characters made from the artist rigs (posed, turned, laid down, mirrored, "
        "scaled, moved, with props and capes) and score them per kind",
    )
    e.add_argument(
        "--cases", type=int, default=None, help="--augment: how many augmented cases (default 150, ~10 min with 2 jobs)"
    )
    e.add_argument(
        "--kinds",
        nargs="*",
        default=None,
        help="--augment: kinds of augmentation, e.g. pose,facing (default: all: none pose facing upaxis "
        "mirror scale offset prop cape mixed)",
    )
    e.add_argument("--seed", type=int, default=0, help="--augment: seed of the cases")
    e.add_argument("--jobs", type=int, default=2, help="--augment: cases rigged at the same time")
    e.add_argument("--keep", type=Path, default=None, help="--augment: keep each case's GLB and rig.json in this folder")
    e.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"), help="compare two --json results and exit")
    e.set_defaults(func=_eval)

    w = sub.add_parser("worker", help="run a rigging worker (HTTP)")
    w.add_argument("--host", default=None)
    w.add_argument("--port", type=int, default=None)
    w.set_defaults(func=_worker)

    s = sub.add_parser("serve", help="run the whole service on this machine: backend + one local worker")
    s.add_argument("--host", default=None)
    s.add_argument("--port", type=int, default=None)
    s.set_defaults(func=_serve)

    m = sub.add_parser("migrate", help="bring the backend's database to the latest schema (also done at start)")
    m.add_argument("--env-file", type=Path, default=Path(".env"), help="settings file (default .env)")
    m.set_defaults(func=_migrate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
