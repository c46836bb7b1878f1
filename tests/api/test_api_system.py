"""Health, metrics, docs, request ids, operator bootstrap, and the last-resort error paths."""

from __future__ import annotations

import httpx
import pytest

from runtime.api.app import ApiArgs, build_app, create_app
from runtime.api.bootstrap import bootstrap_operator
from runtime.settings import Settings
from storage.errors import UpstreamFailure

from api_support import assert_error

pytestmark = pytest.mark.cluster


def test_healthz_needs_no_key_and_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_metrics_count_requests_by_route_and_status(client, tenant_a):
    client.get(f"/v1/brands/{tenant_a.brand['id']}", headers=tenant_a.headers)
    client.get("/v1/me")
    text = client.get("/metrics").text
    assert 'kairo_api_requests_total{method="GET",route="/v1/brands/{brand_id}",status="200"}' in text
    assert 'kairo_api_requests_total{method="GET",route="/v1/me",status="401"}' in text
    assert 'kairo_api_request_duration_seconds_count{method="GET",route="/v1/brands/{brand_id}"}' in text


def test_openapi_and_docs(client):
    schema = client.get("/openapi.json").json()
    assert "/v1/brands/{brand_id}/runtime-context" in schema["paths"]
    assert "ErrorEnvelope" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_request_id_is_echoed_or_generated(client):
    given = client.get("/healthz", headers={"X-Request-ID": "trace-me-123"})
    assert given.headers["x-request-id"] == "trace-me-123"
    generated = client.get("/healthz").headers["x-request-id"]
    assert generated and "," not in generated  # one id, never doubled by proxy and app


async def test_bootstrap_operator_runs_once(api_db, operator_token):
    assert await bootstrap_operator(api_db) is None


async def test_operator_key_works_and_has_an_operator_org(client, operator_token):
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {operator_token}"}).json()
    assert me["org"]["operator"] is True and me["user"]["role"] == "admin"


def test_build_app_validates_its_args():
    assert ApiArgs.model_validate({"settings": {"log_level": "DEBUG"}}).to_settings().log_level == "DEBUG"
    with pytest.raises(ValueError, match="unknown settings"):
        build_app({"settings": {"no_such_setting": 1}})
    with pytest.raises(ValueError):
        build_app({"settings": {"db_pool_max": 0}})
    with pytest.raises(ValueError):
        build_app({"unknown": 1})
    assert build_app({"settings": {"api_max_ongoing_requests": 7}, "start_runtime": False}) is not None


# -- the last-resort paths, in process (a bug cannot be planted in the deployed app) -----------


async def _get(app, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://local") as http:
        return await http.get(path)


async def test_an_unexpected_error_is_a_500_envelope_without_a_trace():
    async def broken_database():
        raise RuntimeError("secret internals: /etc/passwd line 3")

    response = await _get(create_app(broken_database, None, None, Settings()), "/healthz")
    error = assert_error(response, 500, "internal")
    assert "secret" not in response.text and "Traceback" not in response.text and error["details"] == {}
    assert response.headers["x-request-id"]


async def test_an_unreachable_database_is_a_503():
    async def down():
        raise UpstreamFailure("cannot connect to PostgreSQL")

    assert_error(await _get(create_app(down, None, None, Settings()), "/healthz"), 503, "upstream_failure")
