"""One router per resource group; ``ROUTERS`` is what the app mounts."""

from . import agent, brain, brands, calibration, gates, memory, strategy, system, tenancy, users

ROUTERS = [
    system.router,
    tenancy.router,
    users.router,
    brands.router,
    strategy.router,
    brain.router,
    memory.router,
    calibration.router,
    agent.router,
    gates.router,
]
