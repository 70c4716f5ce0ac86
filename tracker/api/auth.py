"""`POST /api/auth/token/`: a username and password for the user's API token.

DRF's view, throttled per client address (a 429 with `Retry-After` after `API_LOGIN_RATE`
attempts), with its request and both outcomes in the schema.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser

from .base import StrictMixin
from .parsers import JSONParser
from .policies import LoginThrottle


class CredentialsSerializer(StrictMixin, AuthTokenSerializer):
    pass


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class ObtainToken(ObtainAuthToken):
    serializer_class = CredentialsSerializer
    parser_classes = [JSONParser, FormParser]  # curl -d username=... -d password=... works too
    throttle_classes = [LoginThrottle]
    extra_error_statuses = (400, 413, 415, 429)

    @extend_schema(request=CredentialsSerializer, responses={200: TokenSerializer}, auth=[], operation_id="auth_token")
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
