"""Optional API keys and the CORS allow-list: both header styles, keys from env and file, never logged."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.main import create_app
from app.settings import Settings
from tests.api.test_errors import assert_error
from tests.conftest import serving, started_client

ENV_KEYS = ["env-key-one-7f3a9c2e41b8d6", "env-key-two-0b5e8d1c7a93f2"]
FILE_KEY = "file-key-5c1d9e7b3a2f80"
ALLOWED = "https://cms.example.org"
EXTRACT = {"text": "The council voted 7-2 on Monday."}


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "claimsift_keys"
    path.write_text(f"# rotated 2026-11-28\n\n  {FILE_KEY}  \n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def secured_settings(settings: Settings, key_file: Path) -> Settings:
    return settings.model_copy(
        update={
            "api_keys": SecretStr(" , ".join(ENV_KEYS)),
            "api_keys_file": key_file,
            "cors_origins": f"{ALLOWED}, https://staging.example.org",
        }
    )


@pytest.fixture(scope="module")
async def secured(secured_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for started in started_client(create_app(secured_settings)):
        yield started


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": ENV_KEYS[0]},
        {"X-API-Key": ENV_KEYS[1]},
        {"Authorization": f"Bearer {ENV_KEYS[0]}"},
        {"Authorization": f"bearer   {ENV_KEYS[1]}"},
        {"X-API-Key": FILE_KEY},
        {"Authorization": f"Bearer {FILE_KEY}"},
    ],
    ids=["x-api-key", "x-api-key-second", "bearer", "bearer-lowercase", "file-x-api-key", "file-bearer"],
)
async def test_a_valid_key_in_either_header_is_accepted(
    secured: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await secured.post("/v1/extract", json=EXTRACT, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["sentences"][0]["text"] == EXTRACT["text"]


async def test_missing_key_is_401_with_a_clear_message(secured: httpx.AsyncClient) -> None:
    response = await secured.post("/v1/extract", json=EXTRACT)
    assert_error(response, 401, "unauthorized", "missing API key: send it as X-API-Key or Authorization")
    assert response.headers["www-authenticate"] == 'Bearer realm="claimsift"'
    for empty in ({"X-API-Key": "  "}, {"Authorization": "Bearer "}):
        assert_error(await secured.post("/v1/extract", json=EXTRACT, headers=empty), 401, "unauthorized")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "wrong-key-0000000000000"},
        {"X-API-Key": ENV_KEYS[0][:-1]},  # a prefix of a real key
        {"X-API-Key": ENV_KEYS[0] + "x"},
        {"Authorization": f"Bearer {ENV_KEYS[0].upper()}"},
    ],
)
async def test_wrong_key_is_401(secured: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await secured.post("/v1/extract", json=EXTRACT, headers=headers)
    assert_error(response, 401, "unauthorized", "invalid API key")
    assert response.headers["www-authenticate"] == 'Bearer realm="claimsift", error="invalid_token"'


async def test_other_authorization_schemes_are_refused(secured: httpx.AsyncClient) -> None:
    response = await secured.post(
        "/v1/extract", json=EXTRACT, headers={"Authorization": "Basic dXNlcjpwdw=="}
    )
    assert_error(response, 401, "unauthorized", "unsupported Authorization scheme")


async def test_every_v1_route_needs_the_key(secured: httpx.AsyncClient) -> None:
    assert_error(await secured.get("/v1/labels"), 401, "unauthorized")
    assert_error(await secured.post("/v1/classify", json={"sentences": ["Hi."]}), 401, "unauthorized")
    response = await secured.get("/v1/labels", headers={"X-API-Key": FILE_KEY})
    assert response.status_code == 200


async def test_refused_before_the_body_is_read(secured: httpx.AsyncClient) -> None:
    bad_json = await secured.post(
        "/v1/extract", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(bad_json, 401, "unauthorized")
    too_big = await secured.post(
        "/v1/extract", content=b"x" * 3_000_000, headers={"Content-Type": "application/json"}
    )
    assert_error(too_big, 401, "unauthorized")
    wrong_type = await secured.post("/v1/extract", content=b"text", headers={"Content-Type": "text/plain"})
    assert_error(wrong_type, 401, "unauthorized")


async def test_probes_and_docs_stay_open(secured: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        assert (await secured.get(path)).status_code == 200, path
    schema = (await secured.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"] == {
        "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "BearerAuth": {"type": "http", "scheme": "bearer"},
    }
    assert schema["paths"]["/v1/extract"]["post"]["security"] == [{"ApiKeyHeader": []}, {"BearerAuth": []}]
    assert "security" not in schema["paths"]["/healthz"]["get"]


async def test_keys_never_reach_the_logs(
    secured: httpx.AsyncClient, secured_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    near_miss = ENV_KEYS[0][:-2] + "zz"
    for headers in (
        {"X-API-Key": ENV_KEYS[0]},
        {"Authorization": f"Bearer {FILE_KEY}"},
        {"X-API-Key": near_miss},
        {"Authorization": f"Bearer {near_miss}"},
        {},
    ):
        await secured.post("/v1/extract", json=EXTRACT, headers=headers)
    assert any("refused POST /v1/extract" in record.getMessage() for record in caplog.records)
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records
    )
    for key in [*ENV_KEYS, FILE_KEY, near_miss]:
        assert key not in logged
        assert key[4:-4] not in logged
    for key in ENV_KEYS:
        assert key not in repr(secured_settings) and key not in str(secured_settings.model_dump())


async def test_cors_preflight_for_an_allowed_origin(secured: httpx.AsyncClient) -> None:
    response = await secured.options(
        "/v1/extract",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-api-key",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ALLOWED
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "x-api-key" in allowed_headers and "authorization" in allowed_headers
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-max-age"] == "600"


async def test_cors_preflight_for_another_origin_is_refused(secured: httpx.AsyncClient) -> None:
    response = await secured.options(
        "/v1/extract",
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_cors_headers_on_answers_and_on_401s(secured: httpx.AsyncClient) -> None:
    ok = await secured.post("/v1/extract", json=EXTRACT, headers={"Origin": ALLOWED, "X-API-Key": FILE_KEY})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == ALLOWED
    refused = await secured.post("/v1/extract", json=EXTRACT, headers={"Origin": ALLOWED})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ALLOWED  # the page can show the error
    other = await secured.post(
        "/v1/extract", json=EXTRACT, headers={"Origin": "https://evil.example.com", "X-API-Key": FILE_KEY}
    )
    assert "access-control-allow-origin" not in other.headers


async def test_both_are_off_by_default(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/labels")).status_code == 200
    preflight = await client.options(
        "/v1/extract", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers
    schema = (await client.get("/openapi.json")).json()
    assert "securitySchemes" not in schema.get("components", {})


@pytest.mark.slow
def test_a_real_server_with_keys_from_env_and_file(key_file: Path, tmp_path: Path) -> None:
    """`claimsift serve` reads the keys from its environment, refuses without one and logs none."""
    env = {
        "CLAIMSIFT_API_KEYS": ",".join(ENV_KEYS),
        "CLAIMSIFT_API_KEYS_FILE": str(key_file),
        "CLAIMSIFT_LOG_LEVEL": "debug",
    }
    log = tmp_path / "serve.log"
    with serving(env, log) as (url, _), httpx.Client(base_url=url, timeout=30) as http:
        assert http.post("/v1/extract", json=EXTRACT).status_code == 401
        wrong = {"X-API-Key": "wrong-key-0000000000000"}
        assert http.post("/v1/extract", json=EXTRACT, headers=wrong).status_code == 401
        for headers in ({"X-API-Key": ENV_KEYS[1]}, {"Authorization": f"Bearer {FILE_KEY}"}):
            assert http.post("/v1/extract", json=EXTRACT, headers=headers).status_code == 200
    output = log.read_text(encoding="utf-8")
    assert "refused POST /v1/extract" in output
    for key in [*ENV_KEYS, FILE_KEY]:
        assert key not in output
