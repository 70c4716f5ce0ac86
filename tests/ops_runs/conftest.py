"""A scripted check type (no AWS) for the tests of scheduling, runs and the tracker following."""

from __future__ import annotations

import pytest

from ops.checks import base
from ops.checks.base import CheckType, Observation


class Scripted(CheckType):
    """Answers what the test says for each check's `key`; counts its collections."""

    code = "test_scripted"
    label = "Scripted (tests)"
    needs_aws = False

    def __init__(self):
        self.answers: dict[str, Observation] = {}
        self.collections = 0

    def clean(self, params, expected):
        return params, expected

    def collect(self, targets, *, client_for, region, calls):
        self.collections += 1
        calls.calls.append("test.Describe")
        return {t.id: self.answers[t.params["key"]] for t in targets if t.params["key"] in self.answers}


@pytest.fixture
def scripted():
    kind = Scripted()
    base.registry[kind.code] = kind
    yield kind
    del base.registry[kind.code]
