"""The API served by the real Ray Serve proxy (127.0.0.1) over a fresh PostgreSQL schema.

Each test module deploys its own application; agents run in BrandHost actors of a Ray namespace
of their own, memory in a real MemoryStore (embedded Chroma + MiniLM) inside the replica.
"""

from __future__ import annotations

from functools import partial

import httpx
import pytest
import ray

from runtime import names
from runtime.api.app import api_application
from runtime.api.bootstrap import bootstrap_operator
from runtime.settings import Settings

from api_support import Tenant, agent_gateway, memory_client

pytestmark = pytest.mark.cluster

APP_NAME = "kairo-api-test"
RAY_NAMESPACE = "kairo-api-test"
BRAND_HOSTS = 1


@pytest.fixture(scope="module")
async def api_db(embedded_postgres_dsn, data_root, fresh_schema):
    """A migrated schema of the module's own, dropped afterwards."""
    async with fresh_schema(embedded_postgres_dsn, data_root, prefix="a") as handle:
        yield handle.db


@pytest.fixture(scope="module")
def api_settings(api_db, embedded_postgres_dsn, data_root) -> Settings:
    return Settings(
        database_url=embedded_postgres_dsn, database_schema=api_db.schema, data_dir=data_root,
        ray_namespace=RAY_NAMESPACE, brand_hosts=BRAND_HOSTS, agent_idle_seconds=3600, db_pool_max=2,
        api_max_ongoing_requests=32, log_level="WARNING",
    )  # fmt: skip


@pytest.fixture(scope="module")
def api_url(serve_url, api_settings, data_root):
    """The app deployed on Serve at ``/``; deleted, with the brand hosts it started, at the end."""
    from ray import serve

    app = api_application(
        api_settings,
        gateway_factory=partial(agent_gateway, api_settings),
        memory_factory=partial(memory_client, data_root / f"chroma-{api_settings.database_schema}"),
    )
    serve.run(app, name=APP_NAME, route_prefix="/")
    yield serve_url
    serve.delete(APP_NAME)
    for index in range(BRAND_HOSTS):
        try:
            ray.kill(ray.get_actor(names.host(index), namespace=RAY_NAMESPACE), no_restart=True)
        except ValueError:
            pass  # never started: no brand command reached it


@pytest.fixture(scope="module")
def client(api_url):
    with httpx.Client(base_url=api_url, timeout=120) as http:
        yield http


@pytest.fixture(scope="module")
async def operator_token(api_db) -> str:
    token = await bootstrap_operator(api_db)
    assert token is not None
    return token


@pytest.fixture(scope="module")
def tenant_a(client, operator_token) -> Tenant:
    tenant = Tenant(client, operator_token)
    tenant.onboard()
    return tenant


@pytest.fixture(scope="module")
def tenant_b(client, operator_token) -> Tenant:
    tenant = Tenant(client, operator_token)
    tenant.onboard()
    return tenant
