"""Logging in to the pages, throttled like the API's token endpoint: after `API_LOGIN_RATE`
attempts from one address the page answers 429 with `Retry-After`, without checking the password
(so guessing stops), while the same user from another address still gets in."""

from __future__ import annotations

import math

from django.contrib.auth.views import LoginView

from ..api.policies import LoginThrottle


class ThrottledLoginView(LoginView):
    def post(self, request, *args, **kwargs):
        throttle = LoginThrottle()
        if throttle.allow_request(request, self):
            return super().post(request, *args, **kwargs)
        wait = math.ceil(throttle.wait() or 1)
        context = self.get_context_data(form=self.get_form(), throttled_for=wait)
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(wait)
        return response
