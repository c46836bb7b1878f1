"""Content packages: write one from a card, a manual topic or a page (a URL), read packages with their variants
and gate scores, and review them (edit, approve or reject a variant, regenerate a variant or a
channel, kill a package).

Every write goes to the brand's agent (``gateway.send``), which owns the brand's packages: the
writing itself (generation, grounding, the gates) runs in the writer pool, and the agent stores
the result in one fenced transaction. Reads come from PostgreSQL. Actions that overwrite carry
the ``version`` read with the package or variant; a stale one, or any action on a killed
package, is a 409. A generator that cannot answer is a 503 naming its reason, with the failed
generation session recorded and no package. A page that cannot be read (refused, 404, too
large, not HTML, no main text) is a 422 naming ``source.url`` and the reason, with nothing
stored; the agent fetches it and the scout pool extracts it, never this replica.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends
from pydantic import Field

from runtime.agent_writing import PackageView, package_view
from runtime.commands import (
    ChannelAsk,
    EditVariant,
    KillPackage,
    PageAsk,
    RegenerateVariants,
    ReviewVariant,
    TopicAsk,
    WritePackage,
)
from runtime.gateway import AgentGateway
from storage.errors import Invalid
from storage.objects import Channel, ContentPackage, PackageStatus
from storage.objects.base import HttpUrl, ShortText, Text
from storage.postgres import Database
from storage.postgres import repositories as repo

from ..access import READ, STRATEGY, BrandAccess
from ..routing import kairo_router
from ..schemas import ApiModel
from ..services import database, gateway
from .queries import Cursor, Limit, brand_page, by_created, page_of

router = kairo_router("/v1/brands/{brand_id}", "packages")

PACKAGES = by_created("content_packages", descending=True)
PackagePage = page_of(ContentPackage, "PackagePage")
SEED_MAX = 2**31 - 1
EDIT_MAX = 40_000


class CardSource(ApiModel):
    kind: Literal["card"]
    card_id: UUID = Field(description="one of the brand's opportunity cards")


class TopicSource(ApiModel):
    kind: Literal["topic"]
    topic: ShortText = Field(description="what the package says, in a line")
    notes: ShortText | None = Field(default=None, description="facts the package may use")
    persona_id: UUID
    pillar_id: UUID


class UrlSource(ApiModel):
    kind: Literal["url"]
    url: HttpUrl = Field(description="the page to write about: fetched, stored as a source document (a URL already "
                                     "ingested is reused), its main text the facts and the thesis of the package")
    notes: ShortText | None = Field(default=None, description="facts of your own the package may use too")
    persona_id: UUID | None = Field(default=None, description="lock the persona (else the one the page speaks to)")
    pillar_id: UUID | None = Field(default=None, description="lock the pillar (else the one the page is about)")


class ChannelSettings(ApiModel):
    thread: bool = Field(default=False, description="X only: write it as a thread")
    variants: int = Field(default=2, ge=1, le=3, description="variants of this channel's plan")
    instance_limit: int | None = Field(default=None, ge=100, le=100_000,
                                       description="Mastodon only: the instance's max_characters")  # fmt: skip


class PackageCreate(ApiModel):
    source: Annotated[CardSource | TopicSource | UrlSource, Field(discriminator="kind")]
    channels: dict[Channel, ChannelSettings] = Field(min_length=1, max_length=3,
                                                     description="the channels to write, each with its settings")  # fmt: skip
    seed: int = Field(default=0, ge=0, le=SEED_MAX, description="another seed writes other variants")


class VariantEdit(ApiModel):
    expected_version: int = Field(ge=1, description="the variant's `version` (GET …/packages/{id}) the edit is based on")
    text: Text = Field(max_length=EDIT_MAX, description="the new text; it passes the channel's platform gate again")


class VariantReview(ApiModel):
    action: Literal["approve", "reject"]
    expected_version: int = Field(ge=1, description="the variant's `version` (GET …/packages/{id}) the decision is based on")


class VariantTarget(ApiModel):
    target: Literal["variant"]
    variant_id: UUID


class PlanTarget(ApiModel):
    target: Literal["plan"]
    plan_id: UUID = Field(description="a channel plan of the package: every variant of the channel")


class Regeneration(ApiModel):
    what: Annotated[VariantTarget | PlanTarget, Field(discriminator="target")]
    expected_version: int = Field(ge=1, description="the package's `version` (GET …/packages/{id}) the regeneration is based on")
    seed: int = Field(default=1, ge=0, le=SEED_MAX)


class PackageKill(ApiModel):
    expected_version: int = Field(ge=1, description="the package's `version` (GET …/packages/{id}) the kill is based on")
    reason: ShortText


def _asks(channels: dict[Channel, ChannelSettings]) -> list[ChannelAsk]:
    return [ChannelAsk(channel=c, thread=s.thread and c is Channel.X, variants=s.variants,
                       limit=s.instance_limit if c is Channel.MASTODON else None) for c, s in channels.items()]  # fmt: skip


async def _send(agents: AgentGateway, brand_id: UUID, command: Any) -> PackageView:
    return PackageView.model_validate(await agents.send(brand_id, command), from_attributes=True)


@router.post("/packages", response_model=PackageView, status_code=201)
async def create_package(
    body: PackageCreate, access: BrandAccess = READ, agents: AgentGateway = Depends(gateway)
) -> PackageView:
    """Write a package for a card (which moves to ``in_progress``), a manual topic or a page at a
    URL (422 naming ``source.url`` when it cannot be read, nothing stored): a core
    argument, one plan per channel and its variants, each through grounding and the gates
    (at most 3 attempts; a variant that never passed is kept ``rejected`` with its reasons)."""
    source = body.source
    command = WritePackage(
        card_id=source.card_id if isinstance(source, CardSource) else None,
        topic=TopicAsk(topic=source.topic, notes=source.notes, persona_id=source.persona_id,
                       pillar_id=source.pillar_id) if isinstance(source, TopicSource) else None,
        page=PageAsk(url=source.url, notes=source.notes, persona_id=source.persona_id,
                     pillar_id=source.pillar_id) if isinstance(source, UrlSource) else None,
        channels=_asks(body.channels), seed=body.seed, user_id=access.principal.user.id,
    )  # fmt: skip
    try:
        return await _send(agents, access.brand.id, command)
    except Invalid as exc:  # the agent names the page as `source.url`: here it is in the body
        if exc.details.get("field") != "source.url":
            raise
        raise Invalid(exc.message, details={**exc.details, "field": "body.source.url"}) from None


@router.get("/packages", response_model=PackagePage)
async def list_packages(
    status: PackageStatus | None = None, limit: Limit = 50, cursor: Cursor = None,
    access: BrandAccess = READ, db: Database = Depends(database),
) -> Any:  # fmt: skip
    """The brand's packages, newest first, optionally of one status (``archived``: killed)."""
    async with db.connection() as conn:
        items, next_cursor = await brand_page(conn, repo.packages, access.brand.id, order=PACKAGES, cursor=cursor,
                                              limit=limit, status=status)  # fmt: skip
    return PackagePage(items=items, next_cursor=next_cursor)


@router.get("/packages/{package_id}", response_model=PackageView)
async def get_package(package_id: UUID, access: BrandAccess = READ, db: Database = Depends(database)) -> PackageView:
    """A package with its core argument, plans and every variant (replaced ones too), each with
    its version, attempts and last quality report."""
    async with db.connection() as conn:
        return await package_view(conn, access.brand.id, package_id)


@router.patch("/packages/{package_id}/variants/{variant_id}", response_model=PackageView)
async def update_variant(
    package_id: UUID, variant_id: UUID, body: VariantEdit, access: BrandAccess = READ,
    agents: AgentGateway = Depends(gateway),
) -> PackageView:  # fmt: skip
    """Edit a variant's text: the edit is refused (422, the platform gate's reasons) when it
    breaks the channel's rules; accepted, the variant is ``edited`` and the edit is recorded
    (an ``edit_applied`` feedback event with its edit distance)."""
    command = EditVariant(package_id=package_id, variant_id=variant_id, expected_version=body.expected_version,
                          text=body.text, user_id=access.principal.user.id)  # fmt: skip
    return await _send(agents, access.brand.id, command)


@router.post("/packages/{package_id}/variants/{variant_id}/review", response_model=PackageView)
async def start_variant_review(
    package_id: UUID, variant_id: UUID, body: VariantReview, access: BrandAccess = STRATEGY,
    agents: AgentGateway = Depends(gateway),
) -> PackageView:  # fmt: skip
    """Approve (a draft or edited variant, for the publisher) or reject a variant."""
    command = ReviewVariant(package_id=package_id, variant_id=variant_id, expected_version=body.expected_version,
                            action=body.action, user_id=access.principal.user.id)  # fmt: skip
    return await _send(agents, access.brand.id, command)


@router.post("/packages/{package_id}/regeneration", response_model=PackageView)
async def start_regeneration(
    package_id: UUID, body: Regeneration, access: BrandAccess = READ, agents: AgentGateway = Depends(gateway)
) -> PackageView:
    """Write one variant or every variant of one channel again with another seed; the new
    variants point at the ones they replace, which become ``rejected``."""
    what = body.what
    command = RegenerateVariants(
        package_id=package_id, variant_id=what.variant_id if isinstance(what, VariantTarget) else None,
        plan_id=what.plan_id if isinstance(what, PlanTarget) else None, expected_version=body.expected_version,
        seed=body.seed,
    )  # fmt: skip
    return await _send(agents, access.brand.id, command)


@router.post("/packages/{package_id}/kill", response_model=PackageView)
async def start_package_kill(
    package_id: UUID, body: PackageKill, access: BrandAccess = STRATEGY, agents: AgentGateway = Depends(gateway)
) -> PackageView:
    """Kill a package: it is archived for good, variants nobody edited are rejected, edited ones
    survive as manual assets."""
    command = KillPackage(package_id=package_id, expected_version=body.expected_version, reason=body.reason,
                          user_id=access.principal.user.id)  # fmt: skip
    return await _send(agents, access.brand.id, command)


__all__ = ["router"]
