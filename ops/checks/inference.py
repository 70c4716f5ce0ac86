"""ML inference endpoint checks: does a model served on the Open Inference Protocol v2 (mlservice)
answer a prediction, correctly, from the version its alias names, and fast enough.

One check is one `POST .../v2/models/<model>[/versions/<version>]/infer` with a sample (the
check's own rows, or one row of zeros as wide as the model's metadata says), judged: PASS when the
answer is a 200 for that model with a `predict` output of one value per row sent, not degraded
(an earlier version answering because the alias's cannot be served), within `max_latency_ms`.

Where the model is (how it is asked: ops.checks.inference_service):

- With a `url`, at another deployment, over HTTP through ops.checks.http's `send`, so through
  core.egress like every request made on a user's behalf: public addresses and those the check's
  workspace allows, never loopback, link-local (the cloud metadata service) or this instance's
  own services; no proxy, no redirect followed (so the token never goes to another host), at most
  64 KB read, one time limit for it all. A run keeps what decided the verdict (the status, the
  version that answered, the rows, the time), never the other service's words: a non-200 is
  "answered 503", whatever its body says.
- Without a `url`, served by THIS instance. Its own address would be loopback, which no check may
  ever reach (a check that could would reach everything else on loopback too), so the request is
  not sent over a socket at all: it is handed in process to mlservice's own route (the view the
  URL resolves to), with the owner's token in its Authorization header, so it meets exactly the
  checks an HTTP request would (the token, the user being active, the workspace that may see the
  model, the throttle, the input's validation) and the same prediction. The latency is that of
  the view. Its error messages are ours, so they are shown.

The inference routes need an API token. A check runs with the token of the user who created it
(`Check.created_by`, given to the type as `Target.owner_id`), looked up when it runs: the token is
never stored in the check's parameters, and never written into an observation (its message and
evidence are shown on pages and stored with every run) or a log line. An answer that echoes it
back has it replaced before it is kept. No owner, or an owner without a token, is an ERROR and no
request is made.
"""

from __future__ import annotations

import json
import math
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from . import http
from .base import ERROR, FAIL, PASS, CallLog, CheckType, ClientFor, Observation, Target, register
from .inference_service import ModelService, Reply, model_path, parsed
from .rules import Params, expected_true

MAX_LATENCY_MS = 30_000
DEFAULT_LATENCY_MS = 1000
MAX_SAMPLE_ROWS = 100
MAX_SAMPLE_VALUES = 10_000
INPUT_NAME = "input-0"  # the one input tensor mlservice's models take (mlservice.protocol)
TOKEN_HINT = "get one with POST /api/auth/token/ (or `manage.py drf_create_token {user}`)"
REDACTED = "[token]"


@register
class InferenceEndpoint(CheckType):
    """POST a sample to a model's infer route: PASS when the right model answers it, whole, from the
    version it should, in time. The observed value is the version that answered (None if none)."""

    code = "inference_endpoint"
    label = "ML inference endpoint answers"
    needs_aws = False
    sends_owner_token = True
    help = (
        "params: url (optional: another deployment's base URL, http or https; leave it out for a model "
        "served by this instance), model (its name), version (optional; "
        "default: the model's production alias), sample (optional list of rows of numbers, e.g. "
        "[[5.1, 3.5, 1.4, 0.2]]; default: one row of zeros as wide as the model's metadata says), "
        "max_latency_ms (default 1000, up to 30000), timeout_seconds (per request, up to 30, default 10). "
        "expected: empty or true. Passes when the model answers one prediction per row, not degraded, "
        "within max_latency_ms. Sends the API token of the check's owner (whoever last changed its "
        "definition), who needs one and must be allowed to call the model."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        if isinstance(params, dict) and isinstance(params.get("version"), int) and params["version"] is not True:
            params = {**params, "version": str(params["version"])}  # `"version": 2` as JSON gives it
        p = Params(params, ["url", "model", "version", "sample", "max_latency_ms", "timeout_seconds"])
        url = p.text("url", required=False, max_length=2048)
        if url == "":
            p.cleaned.pop("url", None)  # no URL: the model is served here
        elif url is not None:
            problem = http._url_problem(url) or _base_url_problem(url)
            if problem:
                p.fail("url", problem)
            else:
                p.cleaned["url"] = url.rstrip("/")
        p.text("model", pattern=r"[-a-zA-Z0-9_]+", hint="a model name (letters, digits, - and _)", max_length=100)
        p.text(
            "version",
            required=False,
            pattern=r"(?!\.+$)[^/\s?#]+",
            hint="a version label (no spaces, /, ? or #, not only dots)",
            max_length=50,
        )
        if params.get("sample") not in (None, ""):
            rows, problem = _sample(params["sample"])
            if problem:
                p.fail("sample", problem)
            else:
                p.cleaned["sample"] = rows
        p.integer("max_latency_ms", required=False, default=DEFAULT_LATENCY_MS, minimum=1, maximum=MAX_LATENCY_MS)
        p.number("timeout_seconds", required=False, default=10, minimum=0, maximum=http.MAX_TIMEOUT_SECONDS)
        cleaned = p.done()
        return cleaned, expected_true(expected, "the model answers a sample correctly, not degraded, in time")

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        if not targets:
            return {}
        # The tokens are read here, in the caller's thread and in two queries for the group.
        owners = _owners({t.owner_id for t in targets if t.owner_id is not None})
        observations: dict[int, Observation] = {}
        jobs: list[tuple[Target, _Owner]] = []
        for target in targets:
            owner = owners.get(target.owner_id) if target.owner_id is not None else None
            refusal = _owner_problem(owner)
            if refusal is not None:
                observations[target.id] = refusal
            else:
                jobs.append((target, owner))  # type: ignore[arg-type] - _owner_problem saw it is usable
        # A model served here is asked in this thread (no socket, and the database as this thread
        # sees it); the others in parallel, like http_endpoint's, so one slow model holds up no other.
        for job in [job for job in jobs if not job[0].params.get("url")]:
            observations[job[0].id] = _probe_safely(job)
        remote = [job for job in jobs if job[0].params.get("url")]
        if remote:
            with ThreadPoolExecutor(max_workers=min(http.PARALLEL, len(remote))) as pool:
                for (target, _), observation in zip(remote, pool.map(_probe_safely, remote), strict=True):
                    observations[target.id] = observation
        return observations


# --- owners and their tokens ------------------------------------------------------------------------


class _Owner:
    __slots__ = ("active", "key", "name")

    def __init__(self, name: str, active: bool, key: str | None) -> None:
        self.name, self.active, self.key = name, active, key

    def __repr__(self) -> str:  # never the key, should an owner end up in a traceback or a log
        return f"_Owner({self.name!r}, active={self.active}, token={'yes' if self.key else 'no'})"


def _owners(ids: set[int]) -> dict[int, _Owner]:
    if not ids:
        return {}
    User = get_user_model()
    keys = dict(Token.objects.filter(user_id__in=ids).values_list("user_id", "key"))
    return {
        user.pk: _Owner(user.get_username(), user.is_active, keys.get(user.pk))
        for user in User.objects.filter(pk__in=ids)
    }


def _owner_problem(owner: _Owner | None) -> Observation | None:
    if owner is None:
        return Observation.error(
            "NoOwner",
            "This check has no owner whose API token it could send (it was created without a user, or its "
            "creator was deleted). Create it again while logged in as a user who has an API token.",
        )
    if not owner.active:
        return Observation.error(
            "OwnerInactive",
            f"The check's owner {owner.name} is deactivated, so their API token is refused. Create the "
            "check again as an active user who has an API token.",
        )
    if not owner.key:
        return Observation.error(
            "NoToken",
            f"The check's owner {owner.name} has no API token; {TOKEN_HINT.format(user=owner.name)}.",
        )
    return None


# --- parameters ---------------------------------------------------------------------------------------


def _base_url_problem(url: str) -> str:
    parts = urlsplit(url)
    if parts.query or parts.fragment or url.rstrip().endswith(("?", "#")):
        return "is the service's base URL (e.g. http://ml.internal:8000): no ?query or #fragment."
    if re.search(r"/v2(/|$)", parts.path):
        return "is the service's base URL, before /v2 (the check adds /v2/models/<model>/infer)."
    return ""


def _sample(value: Any) -> tuple[list[list[float | int]], str]:
    """The rows, or a message saying what is wrong with them."""
    example = "e.g. [[5.1, 3.5, 1.4, 0.2]]"
    if not isinstance(value, list) or not value or not all(isinstance(row, list) for row in value):
        return [], f"a list of rows, each a list of numbers ({example})."
    if len(value) > MAX_SAMPLE_ROWS:
        return [], f"at most {MAX_SAMPLE_ROWS} rows (got {len(value)})."
    widths = {len(row) for row in value}
    if 0 in widths:
        return [], f"a row is empty; each row holds one number per feature ({example})."
    if len(widths) > 1:
        return [], f"the rows have different lengths ({', '.join(str(w) for w in sorted(widths))})."
    if len(value) * len(value[0]) > MAX_SAMPLE_VALUES:
        return [], f"at most {MAX_SAMPLE_VALUES} values in all."
    for number, row in enumerate(value):
        for item in row:
            if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
                return [], f"row {number} holds {item!r}; rows hold finite numbers only."
    return [list(row) for row in value], ""


# --- one check ----------------------------------------------------------------------------------------


def _probe_safely(job: tuple[Target, _Owner]) -> Observation:
    target, owner = job
    key = owner.key or ""
    try:
        observation = probe(**target.params, token=key, owner=owner.name, egress_allow=target.egress_allow)
    except Exception as error:  # one odd answer must not lose the other checks of the group
        where = target.params.get("url") or "the model served here"
        observation = Observation.error(type(error).__name__, f"{where}: {error}"[:500])
    return _redacted(observation, key)


def _redacted(observation: Observation, key: str) -> Observation:
    """The observation with the token replaced wherever an answer (or an exception) put it."""
    if not key:
        return observation

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(key, REDACTED)
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    observation.message = clean(observation.message)
    observation.observed = clean(observation.observed)
    observation.evidence = clean(observation.evidence)
    observation.error_code = clean(observation.error_code)
    return observation


def probe(
    *,
    model: str,
    token: str,
    url: str | None = None,
    owner: str = "",
    version: str | None = None,
    sample: list[list[float | int]] | None = None,
    max_latency_ms: int = DEFAULT_LATENCY_MS,
    timeout_seconds: float = 10,
    egress_allow: Any = (),
) -> Observation:
    """One inference (and, without a sample, one metadata read first), judged. Never raises for a
    network failure: that is the check's answer. The caller redacts `token` from the result."""
    service = ModelService(url=url, token=token, timeout_seconds=timeout_seconds, egress_allow=egress_allow)
    base = model_path(model, version)
    if sample is None:
        width = _width(service, base, owner)
        if isinstance(width, Observation):
            return width
        sample = [[0] * width]
    elif service.local:
        # The metadata route loads the model in this process first (as `_width` does), through
        # the same permission: the inference then measures the model, not this worker's cold start.
        service.ask("GET", base, {})
    rows = len(sample)
    infer = f"{base}/infer"
    evidence = {**service.evidence(infer), "rows": rows}
    request = {
        "inputs": [{"name": INPUT_NAME, "shape": [rows, len(sample[0])], "datatype": "FP64", "data": sample}],
        "outputs": [{"name": "predict"}],
    }
    reply = service.ask("POST", infer, evidence, json.dumps(request).encode())
    if isinstance(reply, Observation):
        return reply
    evidence.update({"status": reply.status, "elapsed_ms": reply.elapsed_ms, "model_version": None, "degraded": None})
    if reply.status == 401:
        return _unauthorized(service, reply, evidence, owner)
    if reply.status != 200:
        return Observation(FAIL, None, evidence, message=_answered(service, "POST", infer, reply, owner))

    problems = _answer_problems(service, reply, evidence, model=model, version=version, rows=rows)
    if reply.elapsed_ms > max_latency_ms:
        problems.append(f"too slow: {reply.elapsed_ms} ms, more than the {max_latency_ms} ms allowed")
    observed = evidence["model_version"]
    if problems:
        return Observation(FAIL, observed, evidence, message=f"{model}: " + "; ".join(problems) + ".")
    return Observation(
        PASS,
        observed,
        evidence,
        message=f"{model} version {observed} answered {rows} row{'s' if rows != 1 else ''} in {reply.elapsed_ms} ms.",
    )


def _answer_problems(
    service: ModelService, reply: Reply, evidence: dict[str, Any], *, model: str, version: str | None, rows: int
) -> list[str]:
    """What is wrong with a 200's answer (malformed, degraded), noting the version that answered
    and whether it was degraded in `evidence`."""
    body, malformed = parsed(reply)
    if malformed:
        return [f"the answer is malformed: {malformed}"]
    problems: list[str] = []
    evidence["model_version"] = _label(body.get("model_version"))
    malformed = _malformed(body, model=model, version=version, rows=rows)
    if malformed:
        problems.append(f"the answer is malformed: {malformed}")
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    evidence["degraded"] = parameters.get("degraded") is True
    if evidence["degraded"]:
        problems.append(_degraded(service, parameters, evidence))
    return problems


def _degraded(service: ModelService, parameters: dict[str, Any], evidence: dict[str, Any]) -> str:
    """The problem of an answer from another version than the alias's, its versions in `evidence`."""
    details = {
        "served_version": _label(parameters.get("served_version")),
        "wanted_version": _label(parameters.get("wanted_version")),
    }
    # Why is our own server's word; another service's free text is not kept.
    reason = parameters.get("reason") if service.local and isinstance(parameters.get("reason"), str) else None
    if reason:
        details["reason"] = reason[:300]
    evidence.update({name: value for name, value in details.items() if value is not None})
    return (
        f"degraded: version {details['served_version']} answered instead of "
        f"{details['wanted_version']} ({reason or 'no reason given'})"
    )


def _label(value: Any) -> str | None:
    """A version label from an answer, or None: only what could be a label is kept and shown."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and re.fullmatch(r"(?!\.+$)[^/\s?#\x00-\x1f\x7f]{1,50}", value):
        return value
    return None


def _answered(service: ModelService, method: str, path: str, reply: Reply, owner: str, what: str = "") -> str:
    text = f"{method} {service.where(path)}{what} answered {reply.status}"
    error = service.error_text(reply)
    if error:
        text += f": {error}"
        if service.local and reply.status == 404 and error.startswith("There is no model"):
            # A model of a workspace the owner is not in is answered as one that does not exist.
            text += f" (for the check's owner {owner}, who sees only their workspaces' models)"
    return text if text.endswith(".") else text + "."


def _unauthorized(service: ModelService, reply: Reply, evidence: dict[str, Any], owner: str) -> Observation:
    """The service refused the owner's token: nothing is known about the model (an ERROR, so the
    tracker does not untick a criterion over a credential), and the message says what to do."""
    if service.local:
        hint = "Get them a new token with POST /api/auth/token/."
    else:
        hint = "Is the URL a deployment that knows this token? Otherwise get a new token with POST /api/auth/token/."
    error = service.error_text(reply)
    said = f" ({error})" if error else ""
    return Observation(
        ERROR,
        None,
        evidence,
        error_code="Unauthorized",
        message=f"The service refused the API token of the check's owner {owner}{said}. {hint}",
    )


def _width(service: ModelService, base: str, owner: str) -> int | Observation:
    """The number of features the model takes, from its metadata; or the failed observation."""
    evidence = service.evidence(base)
    reply = service.ask("GET", base, evidence)
    if isinstance(reply, Observation):
        return reply
    evidence.update({"status": reply.status, "elapsed_ms": reply.elapsed_ms})
    if reply.status == 401:
        return _unauthorized(service, reply, evidence, owner)
    if reply.status != 200:
        what = " (the model's metadata, for the sample's width)"
        return Observation(FAIL, None, evidence, message=_answered(service, "GET", base, reply, owner, what))
    body, malformed = parsed(reply)
    if not malformed:
        try:
            width = body["inputs"][0]["shape"][1]
        except (KeyError, IndexError, TypeError):
            width = None
        if isinstance(width, int) and not isinstance(width, bool) and 0 < width <= MAX_SAMPLE_VALUES:
            return width
        malformed = "it gives no input shape [-1, <features>]"
    return Observation(
        FAIL,
        None,
        evidence,
        message=f"GET {service.where(base)}: the model's metadata is malformed ({malformed}); "
        "give the check a sample instead.",
    )


def _malformed(body: dict[str, Any], *, model: str, version: str | None, rows: int) -> str:
    """What is wrong with a 200's body, or "". Says what was expected, never quotes what came."""
    if body.get("model_name") != model:
        return f"its model_name is not {model!r}"
    if version is not None and str(body.get("model_version")) != version:
        return f"its model_version is not {version!r}"
    if body.get("model_version") is not None and _label(body.get("model_version")) is None:
        return "its model_version is not a version label"
    outputs = body.get("outputs")
    predict = (
        next((o for o in outputs if isinstance(o, dict) and o.get("name") == "predict"), None)
        if isinstance(outputs, list)
        else None
    )
    if predict is None:
        return "it has no output named predict"
    shape, data = predict.get("shape"), predict.get("data")
    if not isinstance(shape, list) or not shape or not all(isinstance(n, int) and n >= 0 for n in shape):
        return "the predict output has no valid shape"
    if shape[0] != rows:
        return f"the predict output has {shape[0]} rows for the {rows} sent"
    if not isinstance(data, list) or len(data) not in (rows, math.prod(shape)):
        count = len(data) if isinstance(data, list) else "no"
        return f"the predict output's data holds {count} values for its shape {shape}"
    return ""
