"""The ``lambdaless`` command: look at synthesized workflows before deploying them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lambdaless.analysis.asl import iter_states, retry_budgets
from lambdaless.synthesized import load


def _inspect(args: argparse.Namespace) -> int:
    machines = load(args.cdk_out)
    if not machines:
        print(f"no state machines in {args.cdk_out}", file=sys.stderr)
        return 1
    for machine in machines:
        states = list(iter_states(machine.definition))
        tasks = [s for _, _, s in states if s.get("Type") == "Task"]
        resources = sorted({str(t.get("Resource", "")).rsplit(":::", 1)[-1] for t in tasks})
        print(f"{machine.stack}/{machine.name} ({machine.type})")
        print(f"  states: {len(states)}, tasks: {len(tasks)} -> {', '.join(resources) or '-'}")
        for budget in retry_budgets(machine.definition):
            print(f"  retry {budget.state}: {budget.describe()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so tests can drive it)."""
    parser = argparse.ArgumentParser(prog="lambdaless", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="summarize every state machine in a cdk.out")
    inspect.add_argument("cdk_out", help="a cloud assembly folder, e.g. cdk.out")
    inspect.set_defaults(handler=_inspect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lambdaless`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
