"""`python -m mmm_dash.builder.job`: one build attempt, run by the builder in a fresh interpreter.

It builds under the lease the builder claimed (`--owner`), records progress and the result in the
build book itself, and exits 0 once the result (ready or a failure of the file) is recorded. Any
other exit is a crash, which the builder records with the tail of this process's stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from mmm_dash.builder.catalog import ModelCatalog, meridian_step


def _step(dotted: str | None):
    if not dotted:
        return meridian_step
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmm_dash.builder.job", description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--step", help="module:function of the build step (default: Meridian)")
    parser.add_argument("name")
    args = parser.parse_args(argv)
    catalog = ModelCatalog(args.model_dir, args.cache_dir, step=_step(args.step))
    catalog.run_claimed(args.name, args.key, args.owner)
    return 0


if __name__ == "__main__":
    sys.exit(main())
