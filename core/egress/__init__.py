"""Where this server may open a connection on a user's behalf, and the one way it does.

Webhooks, `http_endpoint` checks, ML inference checks and anything else that connects to an address
a user typed go through here. A user who can make the server connect somewhere, and read the
answer (a check run) or even just whether there was one (a yes/no oracle), can read what only the
server can reach: its own loopback services, the cloud metadata service, the database and Redis,
the private network. So:

- The host is resolved ONCE and every address it gives is judged before any connection. The
  connection then goes to the very address that was judged (`connection._PinnedHTTPConnection`), never to a
  second lookup, so a name that answers differently the second time (DNS rebinding) gains nothing.
  The Host header, TLS SNI and certificate check still use the host name.
- Never reachable, whatever anyone allows: loopback (127.0.0.0/8, ::1), unspecified (0.0.0.0/8,
  ::), link-local (169.254.0.0/16, where the metadata service answers, and fe80::/10), the IPv6
  metadata address fd00:ec2::254, any IPv6 form that wraps one of those, and this instance's own
  services: the host and port of every database, of REDIS_URL / CELERY_BROKER_URL and the cache,
  and the worker's metrics port (read from the settings at call time; a service on loopback or
  on every interface has its port refused on every internal address, since this host has some).
- Refused unless allowed: every address that is not public: private (RFC 1918, fc00::/7), shared
  (100.64.0.0/10, carrier-grade NAT), benchmarking, documentation, multicast, reserved, and the
  IPv6 forms that embed an IPv4 address (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64
  64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32). For those the embedded IPv4
  address is unwrapped and judged too (a wrapped loopback address is loopback), and the wrapper
  range itself stays refused: write the IPv4 address instead.
  A workspace's `egress_allow` list opens internal CIDRs, addresses or host names (optionally
  with a port) for that workspace's checks (`Policy.for_checks`; `validate_allow_entry` checks
  an entry); the operator's WEBHOOK_ALLOW_PRIVATE_TARGETS opens every internal address for webhooks.
- Every redirect is a new request judged the same way, followed only where the caller asks
  (`max_redirects`); the time limit is one deadline for everything (lookup, connect, TLS, every
  read, every hop: a server that drips a byte a second is cut off at the deadline), and at most
  `max_bytes` of a body are read. No proxy from the environment is used and nothing is retried.

One hole, for the test suite only: EGRESS_TEST_ALLOW_LOOPBACK (True only in
config/settings/test.py, refused by config/settings/production.py) makes plain 127.0.0.0/8 and ::1
reachable like a public address, so the tests' local servers answer. Wrapped loopback forms and
this instance's services stay refused even then.

The package's modules, each importing only those above it:

- `addresses`: the judgement of one IP address (NEVER, INTERNAL, the IPv6 WRAPPERS, `is_public`);
- `instance`: this instance's own services, from the settings (`instance_services`, `never_reachable`);
- `allow`: a workspace's allow-list entries (`parse_allow_entry`, `validate_allow_entry`);
- `policy`: what one caller may reach (`Policy.for_checks`, `Policy.for_webhooks`);
- `errors`: `EgressError` and its kinds, each with the code a run or a delivery records;
- `deadline`, `urls`: one time limit for a fetch; a URL read by one parser (`parse`, `url_problem`);
- `lookup`: one resolution, every address judged (`resolve`, `check_target`);
- `connection`: sockets opened to the judged address only (`_connect`, the pinned pools);
- `fetch`: the request itself (`fetch`, `Answer`).

Callers use the package: `from core import egress; egress.fetch(...)`.
"""

import certifi  # noqa: F401 - `egress.certifi.where` is the CA bundle fetch uses (tests point it at theirs)

from .addresses import INTERNAL, IP, NEVER, WRAPPERS, Network, _internal, _ip, _never, is_public, literal
from .allow import AllowEntry, parse_allow_entry, parse_allow_list, validate_allow_entry
from .connection import _connect
from .deadline import _Deadline
from .errors import (
    ConnectFailed,
    EgressError,
    InvalidURL,
    Refused,
    TimedOut,
    TooManyRedirects,
    TransportFailed,
    Unresolvable,
)
from .fetch import REDIRECT_STATUSES, Answer, fetch
from .instance import instance_services, never_reachable
from .lookup import check_target, resolve
from .policy import Policy
from .urls import URLTarget, parse, url_problem

__all__ = [
    "INTERNAL",
    "IP",
    "NEVER",
    "REDIRECT_STATUSES",
    "WRAPPERS",
    "AllowEntry",
    "Answer",
    "ConnectFailed",
    "EgressError",
    "InvalidURL",
    "Network",
    "Policy",
    "Refused",
    "TimedOut",
    "TooManyRedirects",
    "TransportFailed",
    "URLTarget",
    "Unresolvable",
    "_Deadline",
    "_connect",
    "_internal",
    "_ip",
    "_never",
    "check_target",
    "fetch",
    "instance_services",
    "is_public",
    "literal",
    "never_reachable",
    "parse",
    "parse_allow_entry",
    "parse_allow_list",
    "resolve",
    "url_problem",
    "validate_allow_entry",
]
