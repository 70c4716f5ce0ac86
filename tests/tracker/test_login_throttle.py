"""The login page is throttled per client address, like the API's token endpoint, and the admin's
login form leads to it instead of being a second, unthrottled way in."""

from __future__ import annotations

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_a_minute(settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login": "3/min", "write": "9/min"},
    }
    yield
    cache.clear()


def test_guessing_is_stopped_with_a_429_while_the_user_gets_in_from_elsewhere(client, viewer, three_a_minute):
    guesses = [client.post("/accounts/login/", {"username": "viewer", "password": f"guess-{n}"}) for n in range(3)]

    blocked = client.post("/accounts/login/", {"username": "viewer", "password": "viewer-password"})
    elsewhere = client.post(
        "/accounts/login/", {"username": "viewer", "password": "viewer-password"}, REMOTE_ADDR="10.9.8.7"
    )

    assert [response.status_code for response in guesses] == [200, 200, 200]  # the form again, with the error
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert b"Too many attempts" in blocked.content
    assert "_auth_user_id" not in blocked.wsgi_request.session  # the right password was not even tried
    assert elsewhere.status_code == 302 and elsewhere.wsgi_request.user.username == "viewer"


def test_the_admin_login_leads_to_the_throttled_page(client):
    response = client.get("/admin/login/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_made_up_x_forwarded_for_does_not_reset_the_count(client, viewer, three_a_minute):
    """Without API_NUM_PROXIES nothing in front of us is trusted to name the client."""
    answers = [
        client.post(
            "/accounts/login/", {"username": "viewer", "password": f"guess-{n}"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(5)
    ]
    tokens = [
        client.post(
            "/api/auth/token/", {"username": "viewer", "password": "x"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        ).status_code
        for n in range(2)
    ]

    assert answers == [200, 200, 200, 429, 429]
    assert tokens == [429, 429]  # the page and the token endpoint share one count per address


def test_behind_one_proxy_the_address_it_names_is_counted(client, viewer, three_a_minute, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    for _ in range(3):
        client.post("/accounts/login/", {"username": "viewer", "password": "no"}, HTTP_X_FORWARDED_FOR="203.0.113.5")
    other = client.post(
        "/accounts/login/", {"username": "viewer", "password": "viewer-password"}, HTTP_X_FORWARDED_FOR="203.0.113.6"
    )

    assert other.status_code == 302
