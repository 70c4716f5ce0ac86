"""A public link hides the infrastructure: its live checks show no ENI id, IP address, deployment id
or account id (nor other resource ids) unless the admin who made the link ticked "Show
infrastructure identifiers" (`PublicLink.shows_infrastructure`). Members' own pages show them all.

These tests build their own operation (tests/conftest.py's `team`), apart from the sweep's world
(tests/security/world.py), which may or may not be built when they run.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from ops.models import Check, CheckFlip, CheckRun
from tests.conftest import logged_in
from tracker import services as tracker_services
from tracker.models import PublicLink

pytestmark = pytest.mark.django_db

ENI = "eni-0a1b2c3d4e5f67890"
PRIVATE_IP = "10.0.1.23"
PUBLIC_IP = "54.210.167.99"
DEPLOYMENT = "ecs-svc/4567890123456789012"
ACCOUNT = "123456789012"
SUBNET = "subnet-0123456789abcdef0"
IDENTIFIERS = (ENI, PRIVATE_IP, PUBLIC_IP, DEPLOYMENT, ACCOUNT, SUBNET)


@pytest.fixture(autouse=True)
def _in_a_savepoint(db):
    """Overrides the package's: these tests need the database, not the sweep's world (if another test
    built it, they run inside it, beside its rows)."""
    yield


@pytest.fixture
def seen(team):
    """A check that saw every kind of identifier: in its name, its observed value, its message, a flip."""
    now = timezone.now()
    check = Check.objects.create(
        operation=team,
        name=f"Task ENI {ENI} answers",
        type="http_endpoint",
        params={"url": "https://example.com/health"},
        expected=True,
        status="fail",
        observed={"NetworkInterfaceId": ENI, "PrivateIpAddress": PRIVATE_IP, "Account": int(ACCOUNT)},
        message=(
            f"The PRIMARY deployment {DEPLOYMENT} still runs with assignPublicIp DISABLED: the task's ENI {ENI} "
            f"in {SUBNET} has no public IP (private {PRIVATE_IP} only; the service's was {PUBLIC_IP}); "
            f"image {ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/enhanced-ml-service:v12, route 0.0.0.0/0."
        ),
        last_run_at=now,
        last_good_at=now,
    )
    run = CheckRun.objects.create(
        live_check=check,
        run_id="00000000-0000-0000-0000-000000000001",
        status="fail",
        observed=check.observed,
        evidence={f"NetworkInterfaces[?NetworkInterfaceId=='{ENI}']": PRIVATE_IP},
        message=check.message,
        started_at=now,
    )
    CheckFlip.objects.create(live_check=check, run=run, from_status="pending", to_status="fail", at=now)
    return check


def public_page(client, team, **options) -> str:
    _link, token = tracker_services.public_link_create(operation=team, actor=None, label="board", **options)
    response = client.get(f"/p/{token}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_public_page_hides_every_identifier_by_default(client, team, seen):
    page = public_page(client, team)

    assert "Live checks" in page and "enhanced-ml-service:v12" in page  # the panel is there, names people chose too
    for identifier in IDENTIFIERS:
        assert identifier not in page, identifier
    assert "eni-…" in page and "(address hidden)" in page and "ecs-svc/…" in page and "(account hidden)" in page
    assert "0.0.0.0/0" in page  # "the internet" is no address of theirs


def test_the_public_page_shows_them_when_the_links_toggle_is_on(client, team, seen):
    page = public_page(client, team, shows_infrastructure=True)

    for identifier in IDENTIFIERS:
        assert identifier in page, identifier


def test_a_members_own_dashboard_still_shows_what_the_public_page_hides(client, team, viewer, seen):
    public = public_page(client, team)
    own = logged_in(client, viewer).get(f"/operations/{team.slug}/").content.decode()

    for identifier in IDENTIFIERS:
        assert identifier in own and identifier not in public, identifier


def test_the_sharing_page_makes_links_hiding_or_showing_the_infrastructure(client, team, owner):
    admin = logged_in(client, owner)
    url = f"/operations/{team.slug}/sharing/links/"

    admin.post(url, {"label": "steering committee"})
    admin.post(url, {"label": "the ops team", "shows_infrastructure": "1"})
    page = admin.get(f"/operations/{team.slug}/sharing/").content.decode()

    links = dict(PublicLink.objects.filter(operation=team).values_list("label", "shows_infrastructure"))
    assert links == {"steering committee": False, "the ops team": True}
    assert 'name="shows_infrastructure"' in page and "shows infrastructure ids" in page


def test_a_revoked_links_toggle_opens_nothing(client, team, seen):
    link, token = tracker_services.public_link_create(
        operation=team, actor=None, label="old", shows_infrastructure=True
    )
    tracker_services.public_link_revoke(link=link, actor=None)

    response = client.get(f"/p/{token}/")

    assert response.status_code == 404 and ENI not in response.content.decode()
