"""Health and metrics: no authentication, so load balancers and Prometheus can call them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ..routing import KairoRoute

from ..schemas import ErrorEnvelope, Health
from ..services import services_of

router = APIRouter(tags=["system"], route_class=KairoRoute)


@router.get("/healthz", response_model=Health,
            responses={503: {"model": ErrorEnvelope, "description": "the database does not answer"}})
async def healthz(request: Request) -> Health:
    """Ready when the database answers."""
    db = await services_of(request).db()
    async with db.connection() as conn:
        await conn.fetchval("SELECT 1")
    return Health(status="ok", database="ok")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format: request counts and latency by route and status."""
    registry = request.app.state.metrics
    return Response(registry.render(), media_type=registry.content_type)
