"""What goes wrong on the way out, each with the code a check run or a delivery records."""

from __future__ import annotations


class EgressError(Exception):
    """Nothing was (or could be) asked of the target. Not an OSError: urllib3 must not retry it."""

    code = "EgressError"


class InvalidURL(EgressError):
    code = "InvalidURL"


class Refused(EgressError):
    """The policy refuses an address of the host. The message names the host and the kind of
    address, never the address a name resolved to (that would map our internal DNS for anyone)."""

    code = "TargetRefused"

    def __init__(self, host: str, reason: str, *, never: bool, is_literal: bool, hint: str = "not public"):
        self.host, self.reason, self.never, self.is_literal = host, reason, never, is_literal
        verb = "is" if is_literal else "resolves to"
        why = "which is never reachable" if never else f"which is {hint}"
        super().__init__(f"{host} {verb} {reason}, {why}")


class Unresolvable(EgressError):
    code = "NameResolution"

    def __init__(self, host: str, detail: str = ""):
        self.host = host
        super().__init__(f"{host} does not resolve" + (f" ({detail})" if detail else ""))


class TimedOut(EgressError):
    code = "Timeout"


class ConnectFailed(EgressError):
    code = "ConnectionError"


class TransportFailed(EgressError):
    """TLS, a broken or malformed answer: something answered, but not HTTP we could read."""

    code = "ProtocolError"


class TooManyRedirects(EgressError):
    code = "TooManyRedirects"
