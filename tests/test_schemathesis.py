"""Schemathesis against the service's own OpenAPI schema, over real HTTP to `claimsift serve`.

Generated requests, valid and invalid, must never get a 5xx, and every answer must match the schema:
its status documented, its content type and body as declared. Bounded: a fixed number of examples per
operation, drawn the same way on every run.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)


@pytest.fixture(scope="session")
def api_schema(live_server: str) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{live_server}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_answers_match_the_schema_and_never_5xx(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=60)
