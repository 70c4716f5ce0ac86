"""`manage.py diagnose_ecs`: why the internet cannot reach an ECS service, from a shell or CI.

The exit code carries the verdict so a script can branch on it: 0 reachable, 1 unreachable,
2 unknown (a call could not be answered, or the service does not exist), 3 partially reachable
(some tasks or load balancer nodes serve, others cannot), 4 out of scope (behind a load balancer
that is not internet-facing). `--unknown-ok STEP` (repeatable; "all" for every step but the
service) accepts a step that cannot tell, e.g. for a role without a permission on purpose.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ops.diagnosis import STEP_SLUGS, Diagnosis, diagnose_ecs

EXIT_CODES = {
    "reachable": 0,
    "unreachable": 1,
    "unknown": 2,
    "partially reachable": 3,
    "out of scope: behind a load balancer": 4,
}


def port_number(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise ValueError(value)
    return port


class Command(BaseCommand):
    help = (
        "Walk the path from the internet to an awsvpc ECS service's tasks on a port and name every root cause "
        "with its evidence and fix. Exit code: 0 reachable, 1 unreachable, 2 unknown, 3 partially reachable, "
        "4 out of scope (behind a load balancer that is not internet-facing)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cluster", required=True)
        parser.add_argument("--service", required=True)
        parser.add_argument("--region", required=True)
        parser.add_argument(
            "--port",
            required=True,
            type=port_number,
            help="The TCP port clients connect to (the load balancer listener's, when one fronts the service).",
        )
        parser.add_argument(
            "--unknown-ok",
            action="append",
            default=[],
            choices=[*STEP_SLUGS[1:], "all"],
            metavar="STEP",
            help="A step whose 'cannot tell' must not make the verdict unknown (repeatable; 'all'): "
            + ", ".join(STEP_SLUGS[1:])
            + ".",
        )
        parser.add_argument("--json", action="store_true", help="Print the diagnosis as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        diagnosis = diagnose_ecs(
            cluster=options["cluster"],
            service=options["service"],
            region=options["region"],
            port=options["port"],
            unknown_ok=options["unknown_ok"],
        )
        if options["json"]:
            self.stdout.write(json.dumps(diagnosis.to_dict(), indent=2, default=str))
        else:
            self.stdout.write(self.render(diagnosis, options))
        code = EXIT_CODES[diagnosis.verdict]
        if code:
            # SystemExit, not CommandError: the diagnosis ran and printed; the code is its answer.
            raise SystemExit(code)

    def render(self, diagnosis: Diagnosis, options: dict[str, Any]) -> str:
        style = {
            "reachable": self.style.SUCCESS,
            "partially reachable": self.style.WARNING,
            "unreachable": self.style.ERROR,
            "out of scope: behind a load balancer": self.style.WARNING,
            "unknown": self.style.WARNING,
        }
        lines = [
            f"{options['cluster']} / {options['service']} in {options['region']}, port {options['port']}: "
            + style[diagnosis.verdict](diagnosis.verdict.upper()),
            "",
        ]
        if diagnosis.root_causes:
            lines.append(f"Root causes ({len(diagnosis.root_causes)}):")
            for number, cause in enumerate(diagnosis.root_causes, 1):
                blocks = {"all": "blocks every path", "some": "blocks some paths", "none": "blocks nothing yet"}
                lines.append(f"{number}. {self.style.ERROR(str(cause.code))} ({blocks[cause.impact]}): {cause.summary}")
                lines.append("   Evidence:")
                lines += [f"     {path} = {json.dumps(value, default=str)}" for path, value in cause.evidence.items()]
                lines.append(f"   Fix: {cause.remediation}")
            lines.append("")
        elif diagnosis.verdict == "unknown":
            lines += ["No root cause found, but some steps could not tell (below).", ""]
        lines.append("Steps:")
        marks = {"ok": "ok", "problem": "PROBLEM", "unknown": "unknown", "skipped": "skipped"}
        for step in diagnosis.steps:
            calls = f"  [{', '.join(step.calls)}]" if step.calls else ""
            lines.append(f"  {marks[step.status]:<8} {step.name}: {step.detail}{calls}")
        return "\n".join(lines)
