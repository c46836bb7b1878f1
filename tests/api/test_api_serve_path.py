"""How ``KairoApi`` hands Serve's requests to the app (``asgi_response``), on the real proxy.

A request without a body is answered without Serve's receive channel (whose disconnect watcher
makes actor calls to the proxy on every request); a request with a body still reads it through
Serve. Checked against the installed Ray, so an upgrade that changes how Serve starts the watcher
fails here instead of silently costing throughput.
"""

from __future__ import annotations

import asyncio
import sys

import httpx
import pytest
import ray
from fastapi import FastAPI
from ray import serve
from starlette.requests import Request

from runtime.api.app import asgi_response

pytestmark = pytest.mark.cluster

ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

probe = FastAPI()


@probe.api_route("/echo", methods=["GET", "POST", "DELETE"])
async def echo(request: Request) -> dict:
    body = await request.body()
    await asyncio.sleep(0)  # suspend, as a database call does: Serve's watcher would run now
    return {"body": body.decode(), "receive": getattr(request.receive, "__qualname__", type(request.receive).__name__)}


@serve.deployment(name="AsgiProbe", ray_actor_options={"num_cpus": 0})
class AsgiProbe:
    async def __call__(self, request: Request):
        return await asgi_response(probe, request)


@pytest.fixture(scope="module")
def probe_client(serve_url):
    serve.run(AsgiProbe.bind(), name="asgi-probe", route_prefix="/probe")
    with httpx.Client(base_url=f"{serve_url}/probe", timeout=60) as http:
        yield http
    serve.delete("asgi-probe")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_request_without_body_bypasses_serves_receive_channel(probe_client, method):
    response = probe_client.request(method, "/echo")
    assert response.status_code == 200
    assert response.json() == {"body": "", "receive": "_empty_body.<locals>.receive"}


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_request_with_body_reads_it_through_serve(probe_client, method):
    response = probe_client.request(method, "/echo", content=b"hello, serve")
    assert response.status_code == 200
    assert response.json() == {"body": "hello, serve", "receive": "ASGIReceiveProxy"}


def test_many_concurrent_body_less_requests_all_answer(probe_client):
    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=str(probe_client.base_url), timeout=60) as http:
            responses = await asyncio.gather(*(http.get("/echo") for _ in range(64)))
        return [r.status_code for r in responses]

    assert asyncio.run(burst()) == [200] * 64
