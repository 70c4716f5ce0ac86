"""Channel URLs through Apprise: what a URL is, how it is shown, where it may connect, and sending.

Apprise (pinned) speaks every protocol; nothing here speaks one. What this module adds:

- `parse` refuses what is no Apprise URL, and the kinds that act on this server instead of a
  service (desktop notifications, the local syslog): a channel is typed by an operation admin.
- `redacted` is the only form a URL is ever shown in after it is saved: the scheme, the server
  the team chose (for the kinds that take one) and `***`; never a token, user or password.
- Egress (docs/egress.md): every host an Apprise plugin contacts is judged by core.egress with the
  webhooks' policy. When a channel is saved, the host it names (an SMTP server, a JSON receiver, a
  Mattermost server) is resolved and judged; when it sends, `_guard` judges every address the
  plugin's own lookups return, in the sending thread, before the plugin can connect to it, and the
  plugin connects to exactly the addresses judged (the same getaddrinfo answer), so there is no
  second lookup that DNS rebinding could answer differently. That covers services with fixed hosts
  (hooks.slack.com) and any redirect a plugin follows. WEBHOOK_ALLOW_HTTP allows the plain-text
  kinds (json://, mmost://) as it allows http webhooks.
- Apprise's own log lines can quote a URL's token, and so can urllib3's ("POST /hooks/<token>"):
  Apprise's never reach the process log, nor do the HTTP libraries' lines of a send; Apprise's
  warnings of one send are kept, with every secret of the URL masked, as the delivery's error.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from core import egress

# Kinds that do nothing over the network: they would act on this server for whoever types them.
LOCAL_SCHEMES = frozenset({"syslog", "windows", "macosx", "dbus", "qt", "kde", "glib", "gio", "gnome"})
# The demo's log target (notify.local_log): registered by this app, allowed where the operator says.
LOG_SCHEME = "snailtraillog"
MAX_URL_CHARS = 2000
_FAILURE_LINES = 5


def _apprise() -> Any:
    """Apprise, imported at the first channel parsed or sent, not when a process starts (its
    plugins take most of a second to load), with the demo's log schema registered."""
    import apprise

    from . import local_log

    local_log.register()
    return apprise


def _asset() -> Any:
    # In memory: Apprise's persistent store would otherwise write files for some plugins.
    return _apprise().AppriseAsset(storage_mode="memory")


def scheme_of(url: str) -> str:
    return url.partition("://")[0].strip().lower()


def parse(url: str) -> Any:
    """The Apprise plugin for a URL, or ValidationError saying why it is none we may use."""
    url = (url or "").strip()
    if not url:
        raise ValidationError("Enter an Apprise URL, e.g. slack://… or mailto://….", code="required")
    if len(url) > MAX_URL_CHARS:
        raise ValidationError(f"That URL is longer than {MAX_URL_CHARS} characters.", code="max_length")
    scheme = scheme_of(url)
    if scheme in LOCAL_SCHEMES:
        raise ValidationError(f"{scheme}:// notifies this server's desktop or log, not a team.", code="scheme")
    if scheme == LOG_SCHEME and not settings.NOTIFY_ALLOW_LOG_TARGET:
        raise ValidationError(f"{LOG_SCHEME}:// is not enabled on this instance.", code="scheme")
    with _quiet():
        plugin = _apprise().Apprise.instantiate(url, asset=_asset(), suppress_exceptions=True)
    if plugin is None:
        # Apprise's reason may quote the URL: the message names the scheme only.
        raise ValidationError(
            f"Apprise does not understand that {scheme or 'URL'}:// URL (see the Apprise wiki for its form).",
            code="invalid",
        )
    return plugin


def _named_host(plugin: Any) -> tuple[str, int | None] | None:
    """The server a URL's team chose (SMTP server, JSON receiver, Mattermost…), or None for a
    service with fixed hosts (Slack, Discord…), whose first URL part is a token, not a host."""
    smtp_host = getattr(plugin, "smtp_host", None)
    if smtp_host:
        return smtp_host, getattr(plugin, "port", None)
    if getattr(plugin, "mode", None) == "cloud":
        return None  # ntfy://topic: the first part is a topic on the public service, not a host
    if "host" in getattr(plugin, "template_tokens", {}) and getattr(plugin, "host", None):
        return plugin.host, getattr(plugin, "port", None)
    return None


def redacted(url: str) -> str:
    """How a saved URL is shown: `slack://…/***`, `json://hooks.example.com/***`."""
    scheme = scheme_of(url) or "?"
    try:
        named = _named_host(parse(url))
    except ValidationError:
        named = None
    return f"{scheme}://{named[0] if named else '…'}/***"


def secrets_in(url: str) -> list[str]:
    """Every part of a URL that may be secret, for masking text that could quote it."""
    parts: list[str] = []
    try:
        split = urlsplit(url)
        pieces = [split.username or "", split.password or "", split.netloc]
        pieces += split.path.split("/")
        pieces += [pair.partition("=")[2] for pair in split.query.split("&")]
    except ValueError:
        pieces = [url]
    for piece in pieces + [url]:
        for form in {piece, unquote(piece)}:
            if len(form) >= 4:
                parts.append(form)
    return sorted(set(parts), key=len, reverse=True)


def mask(text: str, url: str) -> str:
    for secret in secrets_in(url):
        text = text.replace(secret, "***")
    return text


def _names(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _plain_refused(plugin: Any, url: str) -> bool:
    """A kind with a secure form used in its plain one (json:// rather than jsons://)."""
    if getattr(plugin, "smtp_host", None):
        return False  # mailto:// negotiates STARTTLS by default; the operator's choice of server
    plain = scheme_of(url) in _names(getattr(plugin, "protocol", None))
    return plain and bool(_names(getattr(plugin, "secure_protocol", None))) and not settings.WEBHOOK_ALLOW_HTTP


def validate(url: str) -> Any:
    """Refuse a URL a channel may not use; the plugin when it may. Resolves the named host once."""
    plugin = parse(url)
    if _plain_refused(plugin, url):
        secure = _names(plugin.secure_protocol)[0]
        raise ValidationError(
            f"Use the secure form ({secure}://): plain-text targets are not allowed on this instance.", code="scheme"
        )
    named = _named_host(plugin)
    if named:
        host, port = named
        host = host.strip("[]")
        shown = f"[{host}]" if ":" in host else host
        try:
            egress.check_target(
                f"https://{shown}:{port or 443}/",
                egress.Policy.for_webhooks(),
                timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            )
        except egress.Refused as refused:
            raise ValidationError(refusal_text(refused), code="private") from None
        except egress.Unresolvable:
            raise ValidationError(f"The host name {host} does not resolve.", code="unresolvable") from None
        except egress.EgressError as error:
            raise ValidationError(f"That server cannot be checked now ({error.code}).", code="invalid") from None
    return plugin


def refusal_text(refused: egress.Refused) -> str:
    where = f"{refused.host} is" if refused.is_literal else f"{refused.host} resolves to an address that is"
    return (
        f"{where} not public: notifications are never sent to loopback, link-local or reserved addresses, "
        "nor to this instance's own services, and to private ones only where the operator allows it."
    )


# --- sending ------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    error: str = ""
    refused: bool = False


@dataclass
class _Send:
    policy: egress.Policy
    refusals: list[egress.Refused] = field(default_factory=list)


_local = threading.local()
_original_getaddrinfo = socket.getaddrinfo
_install_lock = threading.Lock()


def _judged_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    send: _Send | None = getattr(_local, "send", None)
    infos = _original_getaddrinfo(host, port, *args, **kwargs)
    if send is None:
        return infos
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    number = int(port) if isinstance(port, int) or (isinstance(port, str) and port.isdigit()) else 0
    for info in infos:
        reason = send.policy.refusal(info[4][0], number, name)
        if reason:
            refused = egress.Refused(
                name, reason[0], never=reason[1], is_literal=egress.literal(name) is not None, hint=send.policy.hint
            )
            send.refusals.append(refused)
            raise socket.gaierror(socket.EAI_FAIL, "refused by the egress policy")
    return infos


def _install() -> None:
    with _install_lock:
        if socket.getaddrinfo is not _judged_getaddrinfo:
            socket.getaddrinfo = _judged_getaddrinfo


@contextmanager
def _guard() -> Iterator[_Send]:
    _install()
    send = _Send(policy=egress.Policy.for_webhooks())
    _local.send = send
    try:
        yield send
    finally:
        _local.send = None


# Loggers whose lines can quote a URL's secret: Apprise's own (never let through) and the HTTP
# libraries Apprise sends with (dropped in a sending thread: "POST /hooks/<token>" at DEBUG).
_QUOTING_LOGGERS = (
    "apprise",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.util.retry",
    "urllib3.response",
    "requests",
    "requests_oauthlib.oauth2_session",
    "oauthlib",
)


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []


class _Silencer(logging.Filter):
    """Drops the records of `_QUOTING_LOGGERS` before any handler sees them; Apprise's warnings
    of a send are kept for its delivery's error (masked there)."""

    def filter(self, record: logging.LogRecord) -> bool:
        lines: _Lines | None = getattr(_local, "lines", None)
        if record.name == "apprise":
            if lines is not None and record.levelno >= logging.WARNING:
                try:
                    lines.lines.append(record.getMessage())
                except Exception:  # noqa: BLE001 - a badly formatted line is dropped, never raised
                    pass
            return False
        return lines is None


_silencer = _Silencer()


def silence_apprise() -> None:
    """Install the filter (NotifyConfig.ready; idempotent)."""
    for name in _QUOTING_LOGGERS:
        logger = logging.getLogger(name)
        if _silencer not in logger.filters:
            logger.addFilter(_silencer)


@contextmanager
def _quiet() -> Iterator[_Lines]:
    """Apprise's log lines of one call, kept here instead of reaching the process log."""
    silence_apprise()
    lines = _Lines()
    _local.lines = lines
    try:
        yield lines
    finally:
        _local.lines = None


def send(url: str, *, title: str, body: str, body_format: str = "markdown") -> Outcome:
    """Send one message through Apprise's own code for the URL's service. Never raises for the target's faults."""
    try:
        plugin = parse(url)
    except ValidationError as error:
        return Outcome(False, "Target refused: " + " ".join(error.messages), refused=True)
    if _plain_refused(plugin, url):
        return Outcome(False, "Target refused: plain-text targets are not allowed on this instance.", refused=True)
    with _quiet() as lines, _guard() as guard:
        try:
            ok = plugin.notify(body=body, title=title, body_format=body_format)
        except Exception as error:  # noqa: BLE001 - a plugin's bug is a failed delivery, not a crashed worker
            ok, lines.lines = False, [*lines.lines, f"{type(error).__name__}: {error}"]
    if guard.refusals:
        return Outcome(False, "Target refused: " + refusal_text(guard.refusals[0]), refused=True)
    if ok:
        return Outcome(True)
    said = " ".join(lines.lines[-_FAILURE_LINES:]) or "The service did not accept the message."
    return Outcome(False, mask(said, url)[:2000])
