"""Generation rounds (seed 001's generation sessions): why a package's writing went as it did.

Every write and regeneration of a package is one round: ``written`` with its package, or
``failed`` with the generator's reason and no package at all (a write never leaves anything
half-built, so a failed first round is only visible here and in the event log).
``GET /v1/brands/{brand_id}/generation-sessions[?status=&round=&package_id=]`` lists a brand's
rounds newest first, each with the generator, seed, reason, the page it was written from (a
package about a URL), each plan's writing settings and how many candidates and attempts it
kept; ``GET …/generation-sessions/{session_id}`` reads one with every attempt: its text,
verdict, the gates' (or grounding's) reasons and the critic's instructions it was given.
Reads only: rounds are written by the brand's agent and never change.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import Depends
from pydantic import AwareDatetime, Field

from storage.errors import NotFound
from storage.postgres import Database
from storage.postgres import repositories as repo
from storage.postgres import writing as store
from storage.postgres.writing import GenerationSessionRow, PlanSettings

from ..access import READ, BrandAccess
from ..routing import kairo_router
from ..schemas import View
from ..services import database
from .queries import Cursor, Limit, brand_page, by_created, owned, page_of

router = kairo_router("/v1/brands/{brand_id}/generation-sessions", "generation")

SESSIONS = by_created("generation_sessions", descending=True)


class GenerationSessionView(View):
    """One write or regeneration round of a package."""

    id: UUID
    brand_id: UUID
    content_package_id: UUID | None = Field(description="null for a failed first write: it left no package")
    opportunity_id: UUID | None = Field(description="the card it was written for, if any")
    source_doc_id: UUID | None = Field(description="the page a package about a URL was written from")
    round: Literal["write", "regenerate"]
    status: Literal["written", "failed"]
    generator: str = Field(description="composer, openai, local")
    seed: int
    reason: str | None = Field(description="why a failed round failed (the generator's reason)")
    plan_settings: dict[UUID, PlanSettings] = Field(description="channel plan id -> how it was written")
    candidates: int = Field(ge=0, description="variant slots the round wrote")
    attempts: int = Field(ge=0, description="attempts it kept (the critic loop keeps every one)")
    created_at: AwareDatetime


class GenerationAttemptView(View):
    """One attempt of one candidate, as the critic loop kept it."""

    id: UUID
    content_variant_id: UUID
    variant_index: int
    attempt_number: int
    verdict: Literal["pass", "flag", "reject", "ungrounded"]
    reasons: list[str] = Field(description="the gates' (or grounding's) reasons; empty for a pass")
    instructions: list[dict[str, Any]] = Field(description="what the critic asked this attempt to fix")
    body: str
    created_at: AwareDatetime


class GenerationSessionDetail(GenerationSessionView):
    attempt_log: list[GenerationAttemptView] = Field(description="every attempt, by variant and attempt number")


GenerationSessionPage = page_of(GenerationSessionView, "GenerationSessionPage")


def _view(row: GenerationSessionRow, counts: tuple[int, int]) -> dict[str, Any]:
    return {**row.model_dump(), "candidates": counts[0], "attempts": counts[1]}


@router.get("", response_model=GenerationSessionPage)
async def list_generation_sessions(
    status: Literal["written", "failed"] | None = None, round: Literal["write", "regenerate"] | None = None,
    package_id: UUID | None = None, limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ,
    db: Database = Depends(database),
) -> Any:  # fmt: skip
    """The brand's generation rounds, newest first; of one status, kind of round or package."""
    async with db.connection() as conn:
        if package_id is not None:
            await owned(conn, repo.packages, access.brand.id, package_id)
        rows, next_cursor = await brand_page(conn, store.sessions, access.brand.id, order=SESSIONS, cursor=cursor,
                                             limit=limit, content_package_id=package_id, status=status, round=round)  # fmt: skip
        counts = await store.attempt_counts(conn, [r.id for r in rows])
    items = [_view(r, counts.get(r.id, (0, 0))) for r in rows]
    return GenerationSessionPage(items=items, next_cursor=next_cursor)


@router.get("/{session_id}", response_model=GenerationSessionDetail)
async def get_generation_session(session_id: UUID, access: BrandAccess = READ,
                                 db: Database = Depends(database)) -> Any:  # fmt: skip
    """One round with every attempt it kept (text, verdict, reasons, the critic's instructions)."""
    async with db.connection() as conn:
        found = await store.sessions.list(conn, "id = $1 AND brand_id = $2", session_id, access.brand.id)
        if not found:
            raise NotFound(f"generation session {session_id} not found", details={"id": str(session_id)})
        attempts = await store.session_attempts(conn, access.brand.id, session_id)
    log = [a.model_dump() for a in attempts]
    counts = (len({a.content_variant_id for a in attempts}), len(attempts))
    return GenerationSessionDetail(**_view(found[0], counts), attempt_log=log)


__all__ = ["router"]
