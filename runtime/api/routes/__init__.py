"""One router per resource group; ``ROUTERS`` is what the app mounts."""

from . import (
    agent, brain, brands, calibration, feeds, gates, generation, memory, opportunities, packages, patterns, publishing, quality, strategy, system, tenancy, users,
)  # fmt: skip

ROUTERS = [
    system.router,
    tenancy.router,
    users.router,
    brands.router,
    strategy.router,
    brain.router,
    memory.router,
    calibration.router,
    opportunities.router,
    feeds.router,
    packages.router,
    generation.router,
    patterns.brand_router,
    patterns.global_router,
    agent.router,
    gates.router,
    quality.router,
    publishing.router,
]
