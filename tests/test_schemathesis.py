"""Schemathesis against the service's own OpenAPI schema, over real HTTP to `claimsift serve`.

Generated requests, valid and invalid, must never get a 5xx, and every answer must match the schema:
its status documented, its content type and body as declared. Bounded: a fixed number of examples per
operation, drawn the same way on every run. Runs Schemathesis' own command line (`st run`), so the test
does not depend on its pytest plugin, which follows pytest's private internals.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.slow
def test_api_answers_match_the_schema_and_never_5xx(live_server: str) -> None:
    st = shutil.which("st") or shutil.which("schemathesis")
    assert st, "the schemathesis command is not installed (dev extra)"
    command = [
        st,
        "run",
        f"{live_server}/openapi.json",
        f"--checks={CHECKS}",
        "--max-examples=100",
        "--seed=1",
        "--generation-deterministic",
        "--workers=1",
        "--request-timeout=60",
        "--suppress-health-check=all",
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "passed" in result.stdout.lower(), result.stdout[-2000:]
