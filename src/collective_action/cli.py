"""Command line: ``python -m collective_action audit [TARGET ...]``.

Run from the workflow's directory (where config.yaml is). Without targets the
audit covers whatever of the default target's figures, tables and claims is built.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .configuration.schema import REPO_SCHEMA


def _config(root: Path, overlays) -> dict:
    """The config as the Snakefile composes it: config.yaml, its study files, then the overlays."""
    from .configuration.studies import compose

    cwd = Path.cwd()
    try:  # study files are named relative to the workflow's directory, as Snakemake reads them
        os.chdir(root)
        return compose("config.yaml", [Path(cwd, o) for o in overlays])
    finally:
        os.chdir(cwd)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m collective_action", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("audit", help="verify every artifact behind the targets (checksums, config, code, inputs)")
    a.add_argument("targets", nargs="*", help="figures, tables or other artifacts (default: the default target)")
    a.add_argument("--configfile", nargs="*", default=[], help="extra config files merged over config.yaml, "
                                                               "as given to snakemake")
    a.add_argument("--directory", default=".", help="the workflow's directory")
    args = ap.parse_args(argv)

    from .planning.atlas import Atlas
    from .planning.plan import Plan
    from .steps import audit

    root = Path(args.directory)
    config = _config(root, args.configfile)
    schema = root / REPO_SCHEMA
    # named targets must exist; the default target is audited as far as it is built
    targets = args.targets or Plan(config, str(schema), atlas=Atlas).default_targets()
    return audit.run(targets, config, str(schema), str(root), skip_unbuilt=not args.targets)


if __name__ == "__main__":
    sys.exit(main())
