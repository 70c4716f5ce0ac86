"""Paths and the verdict: which ways in a root cause blocks, and what that makes of the whole.

A path is one way a client gets to the service. Without a load balancer each running task is one
(its ENI, in its subnet, with its groups), and a subnet of the service that no task runs in is a
path a later task will take (not counted now). Behind a load balancer the paths clients meet are
the load balancer's nodes (one per subnet: DNS hands out each node's address), the "front"; the
tasks behind it are the "back", and the load balancer routes around a task that fails.

A root cause blocks some paths (a subnet's route, a task's missing public IP) or all of them (no
task runs, the port is not mapped). The verdict follows:
- "unreachable": every front path (or every back path) is blocked;
- "partially reachable": some front paths are, others serve (1 of 2 tasks; one node of 3);
- "out of scope: behind a load balancer": no internet-facing load balancer fronts the service,
  and nothing found blocks it;
- "unknown": nothing found, but a step could not tell (unless the caller accepts that step);
- "reachable": otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .model import Impact, RootCause, Step, Verdict

Tier = Literal["front", "back"]


@dataclass
class Path:
    key: str  # an ENI id, "subnet:<id>" for a task yet to start, "lb:<name>:<subnet>" for a node
    subnet: str | None
    groups: list[str]
    origin: dict[str, Any]  # where `groups` were read, as evidence
    tier: Tier = "front"
    now: bool = True  # False: a subnet of the service no task runs in (yet)
    family: str = "ipv4"  # the clients judged: IPv4, or IPv6 for an IPv6-only task
    balancer: str = ""  # the load balancer's name, for its nodes
    private_ip: str | None = None
    task_arn: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Found:
    cause: RootCause
    keys: frozenset[str] | None  # the paths it blocks; None: every path


def _impact(found: Found, paths: list[Path]) -> tuple[Impact, Tier | None, set[str]]:
    """(impact, the tier it hits, the current paths it blocks)."""
    if found.keys is None:
        return found.cause.impact, None, set()
    for tier in ("front", "back"):
        current = {p.key for p in paths if p.tier == tier and p.now}
        hit = found.keys & current
        if hit:
            return ("all" if hit == current else "some"), tier, hit  # type: ignore[return-value]
    return "none", None, set()


def judge(
    found: list[Found], paths: list[Path], steps: list[Step], *, out_of_scope: str, unknown_ok: set[str]
) -> tuple[Verdict, list[RootCause]]:
    causes: list[RootCause] = []
    blocked: dict[str, set[str]] = {"front": set(), "back": set()}
    everything = False
    for item in found:
        impact, tier, hit = _impact(item, paths)
        causes.append(replace(item.cause, impact=impact))
        if item.keys is None and impact == "all":
            everything = True
        elif tier:
            blocked[tier] |= hit
    fully = everything or any(
        blocked[tier] and blocked[tier] >= {p.key for p in paths if p.tier == tier and p.now}
        for tier in ("front", "back")
    )
    unknown = [
        s for s in steps if s.status == "unknown" and (s.name == "service" or not ({"all", slug(s.name)} & unknown_ok))
    ]
    if fully:
        verdict: Verdict = "unreachable"
    elif out_of_scope:
        verdict = "out of scope: behind a load balancer"
    elif blocked["front"]:
        verdict = "partially reachable"
    elif unknown:  # including a service that does not exist
        verdict = "unknown"
    else:
        verdict = "reachable"
    return verdict, causes


def slug(step_name: str) -> str:
    """ "VPC Block Public Access" -> "vpc-block-public-access": how --unknown-ok names a step."""
    return "-".join(step_name.lower().split())
