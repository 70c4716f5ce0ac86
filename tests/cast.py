"""The named users of every test: one cast (house style rule 8), made here for the fixtures of
tests/conftest.py and for the security sweep's world (tests/security/world.py) alike.

- `owner`: administers the team's operation (the sweep: operation A and its workspace); staff;
- `teammate`: edits it; `viewer`: views it;
- `outsider`: not in the team's workspace, so nothing of the team's exists for them; in the sweep
  they administer operation B, in their own workspace;
- `rival`: edits the outsider's operation B (the sweep);
- `nobody`: signed in, in no workspace at all (the sweep);
- `newbie`: in the workspaces with no operation role, whom write tests add (the sweep);
- `admin`: the superuser, the only one the Django admin lets in.

Each one's password is `password(name)`, each one's email `<name>@example.com`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

CAST = ("owner", "teammate", "viewer", "outsider", "rival", "nobody", "newbie", "admin")


def password(name: str) -> str:
    return f"{name}-password"


def make(name: str, **fields: Any):
    """The cast member `name` (`admin` a superuser), with extra model fields such as is_staff."""
    if name not in CAST:
        raise ValueError(f"{name!r} is not in the cast: {', '.join(CAST)}")
    users = get_user_model().objects
    create = users.create_superuser if name == "admin" else users.create_user
    return create(username=name, email=f"{name}@example.com", password=password(name), **fields)
