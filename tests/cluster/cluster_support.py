"""Helpers for cluster tests: a tenant and onboarded brands."""

from __future__ import annotations

import uuid

from agents.brand_brain import OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand
from storage.objects import Org, User
from storage.postgres import repositories as repo


async def make_org(db) -> tuple[Org, User]:
    tag = uuid.uuid4().hex[:8]
    org = Org(name=f"Org {tag}", slug=f"org-{tag}")
    user = User(org_id=org.id, email=f"owner-{tag}@example.com", role="admin")
    async with db.transaction() as conn:
        await repo.orgs.insert(conn, org)
        await repo.users.insert(conn, user)
    return org, user


async def onboard(db, org: Org, user: User, name: str | None = None):
    tag = uuid.uuid4().hex[:8]
    return await onboard_brand(db, OnboardingRequest(
        org_id=org.id, owner_user_ids=[user.id], name=name or f"Brand {tag}", slug=f"brand-{tag}",
        primary_channels=["linkedin", "x"], positioning="We help teams ship calmer.",
        personas=[PersonaDraft(name="Lead", description="Leads a team.", pain_points=["Noise"], goals=["Focus"])],
        pillars=[PillarDraft(name="Craft", description="How we work.")],
    ))  # fmt: skip


def hashing_engines(settings):
    """Engines in the host process with a model-free embedder: fast and deterministic."""
    from runtime.local import LocalEngines
    from storage.memory import HashingEmbedder

    return LocalEngines(HashingEmbedder())


# Ray workers cannot import this test module: ship its functions by value.
import sys  # noqa: E402

from ray import cloudpickle  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])
