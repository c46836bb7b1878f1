"""A webhook receiver that does what the webhook adapter's docstring asks of one: verify the
HMAC signature and timestamp, drop repeats of a delivery id (answer 2xx with the same id)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agents.publisher.adapters.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

from .base import FakePlatform


class FakeWebhookReceiver(FakePlatform):
    name = "webhook"

    def __init__(self, *, secret: str = "whsec-test", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.secret = secret
        self.deliveries: dict[str, dict[str, Any]] = {}
        self.received = 0

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/hook", self.receive)]

    async def receive(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        stamp, signature = request.headers.get(TIMESTAMP_HEADER, ""), request.headers.get(SIGNATURE_HEADER, "")
        if not verify(self.secret, stamp, body, signature, now=self.clock()):
            return web.json_response({"error": "bad signature"}, status=401)
        delivery = request.headers.get(DELIVERY_HEADER, "")
        if not delivery:
            return web.json_response({"error": "missing delivery id"}, status=400)

        async def write() -> web.Response:
            self.received += 1
            if delivery not in self.deliveries:
                payload = await request.json()
                self.deliveries[delivery] = payload
                self.posts.append({"id": f"wh-{delivery[:16]}", "text": payload.get("text"), "key": delivery})
            return web.json_response({"id": f"wh-{delivery[:16]}"}, status=200)

        return await self.faulty_write(request, write)
