"""The brand's stored quality reports: why the gates passed or rejected a post, kept for later.

``GET /v1/brands/{brand_id}/quality-reports`` lists them newest first: the reports of the
writer's attempts at variants (subject ``attempt``, CO-29) and the checks of drafts through
``POST …/gates/check`` (subject ``draft``, with the draft's text), each with every gate's score,
pass, threshold and findings, the thresholds in force and the snapshot whose rules applied.
``GET …/quality-reports/{report_id}`` reads one. Reads only: reports are written by the writer
and the check route.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import Depends

from storage.postgres import Database, quality
from storage.postgres import repositories as repo

from ..access import READ, BrandAccess
from ..routing import kairo_router
from ..services import database
from .queries import Cursor, Limit, brand_page, by_created, owned, page_of

router = kairo_router("/v1/brands/{brand_id}/quality-reports", "quality")

REPORTS = by_created("quality_report_log", descending=True, column="evaluated_at")
QualityReportPage = page_of(quality.QualityReportEntry, "QualityReportPage")


@router.get("", response_model=QualityReportPage)
async def list_quality_reports(
    subject: Literal["attempt", "draft"] | None = None, content_variant_id: UUID | None = None,
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database),
) -> Any:  # fmt: skip
    """The brand's quality reports, newest first; of one subject, or of one variant's attempts."""
    async with db.connection() as conn:
        if content_variant_id is not None:
            await owned(conn, repo.variants, access.brand.id, content_variant_id)
        items, next_cursor = await brand_page(conn, quality.REPORT_LOG, access.brand.id, order=REPORTS, cursor=cursor,
                                              limit=limit, content_variant_id=content_variant_id, subject=subject)  # fmt: skip
    return QualityReportPage(items=items, next_cursor=next_cursor)


@router.get("/{report_id}", response_model=quality.QualityReportEntry)
async def get_quality_report(report_id: UUID, access: BrandAccess = READ, db: Database = Depends(database)) -> Any:
    """One stored report: the verdict, every gate's result, the thresholds and the snapshot."""
    async with db.connection() as conn:
        return await quality.report_of(conn, access.brand.id, report_id)
