"""Write a benchmark's results to benchmarks/results/<name>.json and a short .md beside it."""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write(name: str, results: dict[str, Any], summary_lines: list[str]) -> Path:
    """Save ``results`` (plus when/where it ran) and a Markdown summary; return the JSON path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "command": f".venv/bin/python benchmarks/{name}.py",
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "machine": platform.platform(),
        **results,
    }
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
    print("\n".join(summary_lines))
    print(f"\nwrote {path}")
    return path
