"""Print a benchmark's results; with ``--write``, also save them to
benchmarks/results/<name>.json and a short .md beside it (a plain run leaves the clone clean)."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _asked_to_write() -> bool:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--write", action="store_true")
    return bool(parser.parse_known_args()[0].write)


def write(name: str, results: dict[str, Any], summary_lines: list[str]) -> Path | None:
    """Print the summary; with ``--write`` on the command line, also save ``results`` (plus
    when/where it ran) and the Markdown summary, and return the JSON path."""
    document = {
        "benchmark": name,
        "command": f".venv/bin/python benchmarks/{name}.py --write",
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "machine": platform.platform(),
        **results,
    }
    print("\n".join(summary_lines))
    if not _asked_to_write():
        print(f"\n(not saved: rerun with --write to update benchmarks/results/{name}.*)")
        return None
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    md = [
        f"# {name}",
        "",
        f"Rerun: `{document['command']}` ({document['ran_at']})",
        "",
        *summary_lines,
    ]
    (RESULTS / f"{name}.md").write_text("\n".join(md) + "\n")
    print(f"\nwrote {path}")
    return path
