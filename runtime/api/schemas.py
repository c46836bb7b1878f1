"""Request and response bodies of the HTTP API.

Canonical objects (``storage.objects``) are returned as they are; this module adds what the API
needs around them: request bodies (unknown fields refused), views that hide secrets (an API key
never shows its hash) and the error envelope, for the OpenAPI document.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model, field_validator

from agents.brand_brain import BrandDraft
from runtime.commands import CreateSnapshot, SetSchedule, UpdateRuntimeContext
from storage.memory.store import SEARCH_K_MAX
from storage.objects import (
    AgentStatus,
    ApiKey,
    Brand,
    BrandBrainSnapshot,
    BrandMembership,
    BrandMemoryFragment,
    BrandRuntimeContext,
    MemorySourceType,
    Org,
    OrgStatus,
    Persona,
    Pillar,
    User,
    UserRole,
    UserStatus,
    VisibilityStatus,
)
from storage.objects.base import Email, KairoObject, Label, NonEmptyLabels, ShortText, Slug, Text
from storage.objects.brain import MEMORY_TEXT_MAX

LIST_LIMIT_MAX = 200
API_KEY_LIFETIME_MAX = 10 * 366 * 86400  # ten years
DEFAULT_CADENCE_SECONDS = 3600


class ApiModel(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def no_null_in_schema(schema: dict[str, Any]) -> None:
    """A PATCH body's schema as the server reads it: each field optional, never null."""
    for prop in schema.get("properties", {}).values():
        branches = prop.get("anyOf")
        if isinstance(branches, list) and {"type": "null"} in branches:
            kept = [b for b in branches if b != {"type": "null"}]
            del prop["anyOf"]
            if len(kept) == 1:
                prop.update(kept[0])
            else:
                prop["anyOf"] = kept
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class View(BaseModel):
    """A response body: every field is always present, so the schema marks each one required
    (generated clients get ``UUID``, not ``UUID | Unset``)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class PatchModel(ApiModel):
    """A partial update: a field left out keeps its value; an explicit null is refused."""

    model_config = ConfigDict(json_schema_extra=no_null_in_schema)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nulls(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null; leave the field out to keep its value")
        return value


def command_body(command: type[KairoObject], name: str) -> type[ApiModel]:
    """The request body of an agent command: the command's own fields without ``kind``, so the
    two can never drift apart."""
    fields: dict[str, Any] = {n: (f.annotation, f) for n, f in command.model_fields.items() if n != "kind"}
    return create_model(name, __base__=ApiModel, __doc__=command.__doc__, **fields)


# -- errors -----------------------------------------------------------------------------------


class ErrorBody(View):
    code: str = Field(examples=["not_found"])
    message: str
    details: dict[str, Any] = {}


class ErrorEnvelope(View):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": text}
    for status, text in {
        401: "missing, malformed, revoked or expired API key",
        403: "the caller's role is too low for this action",
        404: "no such object, or not visible to the caller",
        409: "state conflict: duplicate or stale version",
        413: "the request body is larger than the API accepts",
        415: "the body is not uncompressed application/json",
        422: "invalid input; details.field names the offending field",
        503: "the agent runtime or the database is unavailable; retry shortly",
    }.items()
}

# -- tenancy ----------------------------------------------------------------------------------


class ApiKeyView(View):
    """An API key as the API shows it: never its secret or the secret's hash."""

    id: UUID
    user_id: UUID
    name: str
    lookup: str = Field(description="the key's public part, as in kairo_<lookup>_…")
    created_at: AwareDatetime
    expires_at: AwareDatetime | None
    revoked_at: AwareDatetime | None
    last_used_at: AwareDatetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyView:
        return cls.model_validate(key.model_dump(exclude={"secret_hash"}))


class ApiKeyCreate(ApiModel):
    name: Label
    expires_in_seconds: int | None = Field(
        default=None, ge=60, le=API_KEY_LIFETIME_MAX,
        description="the key stops working this long after it is created; omit for a key that does not expire",
    )


class ApiKeyCreated(View):
    api_key: ApiKeyView
    token: str = Field(description="the plaintext key; shown this once, never stored")


class OrgCreate(ApiModel):
    name: Label
    slug: Slug
    admin_email: Email


class OrgCreated(View):
    org: Org
    admin: User
    api_key: ApiKeyView
    token: str = Field(description="the first admin's plaintext key; shown this once")


class UserCreate(ApiModel):
    email: Email
    role: UserRole = UserRole.CREATOR


class UserPatch(PatchModel):
    role: UserRole | None = None
    status: UserStatus | None = Field(default=None, description="inactive: the user's keys stop working")


class OrgPatch(PatchModel):
    name: Label | None = None
    status: OrgStatus | None = Field(
        default=None, description="suspended: nobody of the org can call the API (operator admins only)"
    )


class Me(View):
    user: User
    org: Org
    api_key: ApiKeyView
    memberships: list[BrandMembership]


# -- brands -----------------------------------------------------------------------------------


class BrandCreate(BrandDraft):
    """Onboarding: the brand with its personas, pillars and first strategy snapshot."""

    owner_user_ids: list[UUID] | None = Field(
        default=None, description="users of the org who become admins of the brand; default: the caller"
    )
    cadence_seconds: int = Field(default=DEFAULT_CADENCE_SECONDS, ge=60, le=604800)


class BrandView(Brand):
    """A brand with the caller's role on it."""

    role: UserRole


class BrandCreated(View):
    brand: BrandView
    personas: list[Persona]
    pillars: list[Pillar]
    snapshot: BrandBrainSnapshot
    runtime_context: BrandRuntimeContext
    agent: AgentStatus


class MemberCreate(ApiModel):
    user_id: UUID
    role: UserRole


# -- personas and pillars ---------------------------------------------------------------------


class PersonaCreate(ApiModel):
    name: Label
    description: ShortText
    pain_points: NonEmptyLabels
    goals: NonEmptyLabels
    status: VisibilityStatus = VisibilityStatus.ACTIVE


class PersonaPatch(PatchModel):
    name: Label | None = None
    description: ShortText | None = None
    pain_points: NonEmptyLabels | None = None
    goals: NonEmptyLabels | None = None
    status: VisibilityStatus | None = None


class PillarCreate(ApiModel):
    name: Label
    description: ShortText
    priority: int = Field(default=0, ge=-1000, le=1000)
    status: VisibilityStatus = VisibilityStatus.ACTIVE


class PillarPatch(PatchModel):
    name: Label | None = None
    description: ShortText | None = None
    priority: int | None = Field(default=None, ge=-1000, le=1000)
    status: VisibilityStatus | None = None


# -- brand brain, memory, agent ---------------------------------------------------------------

SnapshotCreate = command_body(CreateSnapshot, "SnapshotCreate")
RuntimeContextPatch = command_body(UpdateRuntimeContext, "RuntimeContextPatch")
AgentPatch = command_body(SetSchedule, "AgentPatch")


class MemoryCreate(ApiModel):
    raw_text: Text = Field(max_length=MEMORY_TEXT_MAX)
    source_type: MemorySourceType = MemorySourceType.MANUAL
    persona_id: UUID | None = None
    pillar_id: UUID | None = None
    tags: list[Label] = []


class MemoryHitView(View):
    fragment: BrandMemoryFragment
    distance: float
    similarity: float = Field(description="cosine similarity, 1 = same direction")


class Health(View):
    status: str
    database: str


__all__ = [
    "LIST_LIMIT_MAX",
    "SEARCH_K_MAX",
    "AgentPatch",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyView",
    "BrandCreate",
    "BrandCreated",
    "BrandView",
    "ERROR_RESPONSES",
    "ErrorEnvelope",
    "Health",
    "Me",
    "MemberCreate",
    "MemoryCreate",
    "MemoryHitView",
    "OrgCreate",
    "OrgCreated",
    "PersonaCreate",
    "PersonaPatch",
    "PillarCreate",
    "PillarPatch",
    "RuntimeContextPatch",
    "SnapshotCreate",
    "UserCreate",
    "View",
]
