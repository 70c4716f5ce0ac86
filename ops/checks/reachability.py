"""`ecs_reachability`: the whole path from the internet to an ECS service's tasks, as one check.

It runs `ops.diagnosis.diagnose_ecs` per check: the diagnosis walks a dozen AWS resources of its
own service, so there is nothing to batch across checks (its calls are batched within the walk).
PASS when the verdict is "reachable"; FAIL with the root causes' codes as the observed value
("unreachable", "partially reachable"); ERROR when the diagnosis cannot tell ("unknown"), with the
step that could not, or when no internet-facing load balancer fronts the service ("out of scope").
"""

from __future__ import annotations

from typing import Any

from .base import CallLog, CheckType, ClientFor, Observation, Target, register
from .rules import Params, expected_true


def steps_named(names: str) -> list[str]:
    """The steps of a check's `unknown_ok`, kept as words separated by commas."""
    return [name.strip() for name in names.split(",") if name.strip()]


@register
class EcsReachability(CheckType):
    code = "ecs_reachability"
    label = "ECS service reachable from the internet"
    help = (
        'params: {"cluster", "service", "port", "unknown_ok" (optional, steps that may not tell, e.g. '
        '"vpc-block-public-access")}; expected: true (reachable). Fails naming every root cause (e.g. '
        "DEPLOYMENT_NETWORK_CONFIG_STALE) with its evidence."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = Params(params, ["cluster", "service", "port", "unknown_ok"])
        p.text("cluster", max_length=255)
        p.text("service", max_length=255)
        p.integer("port", minimum=1, maximum=65535)
        # Steps whose "cannot tell" must not make the check an ERROR (e.g. a role without the Block
        # Public Access permission on purpose): "vpc-block-public-access", comma-separated, or "all".
        accepted = p.text("unknown_ok", required=False, max_length=500) or ""
        # ops.diagnosis (and the boto3 it brings) is imported when a check is saved or run, not when
        # its type registers at every process's startup (issue #18).
        from ..diagnosis import STEP_SLUGS

        wrong = [step for step in steps_named(accepted) if step not in (*STEP_SLUGS[1:], "all")]
        if wrong:
            p.fail("unknown_ok", f"no step {', '.join(wrong)}; the steps are {', '.join(STEP_SLUGS[1:])}, or all.")
        return p.done(), expected_true(expected, "the service is reachable")

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        environment = getattr(client_for, "environment", None)
        return {target.id: self._diagnose(target, region, environment, calls) for target in targets}

    def _diagnose(self, target: Target, region: str, environment, calls: CallLog) -> Observation:
        from ..diagnosis import diagnose_ecs

        params = target.params
        diagnosis = diagnose_ecs(
            cluster=params["cluster"],
            service=params["service"],
            region=region,
            port=params["port"],
            environment=environment,
            unknown_ok=steps_named(params.get("unknown_ok") or ""),
        )
        for step in diagnosis.steps:
            calls.calls.extend(step.calls)
        evidence = {cause.code: cause.evidence for cause in diagnosis.root_causes}
        if diagnosis.verdict == "unknown":
            unknown = [f"{step.name}: {step.detail}" for step in diagnosis.steps if step.status == "unknown"]
            return Observation.error(
                "DiagnosisUnknown", "; ".join(unknown) or "The diagnosis could not tell.", evidence
            )
        if diagnosis.verdict == "out of scope: behind a load balancer":
            return Observation.error("DiagnosisOutOfScope", diagnosis.step("load balancer").detail, evidence)
        codes = [cause.code for cause in diagnosis.root_causes]
        # Each summary is a sentence of its own ("...whatever the service now says."): no "; " between.
        message = " ".join(f"{cause.code}: {cause.summary}" for cause in diagnosis.root_causes)
        observed = diagnosis.verdict == "reachable"
        return Observation.judged(
            observed, target.expected, {"verdict": diagnosis.verdict, "root_causes": codes, **evidence}, message
        )
