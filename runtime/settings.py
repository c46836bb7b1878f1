"""Kairo's settings: one place, read from ``KAIRO_*`` environment variables.

Nothing else in the code reads the environment. Storage and engines receive plain values
from here, so they stay testable without it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAIRO_", extra="ignore")

    data_dir: Path = Field(
        default=Path("~/.kairo"),
        description="Where the embedded PostgreSQL and Chroma keep their files.",
    )
    database_url: str | None = Field(
        default=None, description="A PostgreSQL DSN; unset means the embedded server in data_dir."
    )
    database_schema: str = Field(default="public", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    db_pool_min: int = Field(default=1, ge=0, le=32)
    db_pool_max: int = Field(default=4, ge=1, le=64)
    chroma_url: str | None = Field(
        default=None, description="A Chroma server (http://host:port); unset means embedded Chroma in data_dir."
    )
    embedding_threads: int = Field(default=1, ge=1, le=64, description="torch threads for the MiniLM embedder.")
    memory_batch_max: int = Field(
        default=256, ge=1, le=4096, description="Most fragments one POST .../memory:batch may remember."
    )
    memory_socket: bool = Field(
        default=True,
        description="Searches from the memory service's own machine go over its Unix socket instead of an actor call.",
    )
    # -- runtime (Ray) ---------------------------------------------------------------------
    ray_namespace: str = Field(default="kairo", pattern=r"^[a-z][a-z0-9-]{0,62}$")
    brand_hosts: int = Field(default=2, ge=1, le=4096, description="BrandHost actors brands are hashed over.")
    host_per_brand: bool = Field(
        default=False, description="One BrandHost actor per brand (process isolation) instead of shards."
    )
    agent_idle_seconds: float = Field(default=600.0, gt=0, description="Passivate an agent idle this long.")
    activation_lease_seconds: float = Field(
        default=60.0, gt=0,
        description="A brand host's lease on its brands: another host may take a brand over once the lease expired, "
        "and a host whose heartbeats fail this long stops its agents.",
    )
    brand_hosts_per_node: int | None = Field(
        default=None, ge=1, le=256,
        description="When set, brand_hosts = this × the Ray nodes alive at start (hosts are spread over nodes).",
    )
    scout_pool: int = Field(default=1, ge=1, le=64)
    miner_pool: int = Field(default=1, ge=1, le=64)
    writer_pool: int = Field(default=1, ge=1, le=64)
    scheduler_tick_seconds: float = Field(default=15.0, gt=0)
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_max_ongoing_requests: int = Field(default=64, ge=1)
    api_replicas: int | None = Field(
        default=None, ge=1, le=64, description="API replicas; unset: 2 on a cluster of several nodes, 1 on one node."
    )
    api_max_replicas_per_node: int = Field(default=1, ge=1, le=64, description="API replicas one node may run.")
    api_health_check_period_seconds: float = Field(default=5.0, gt=0, description="Serve's health check interval.")
    api_health_check_timeout_seconds: float = Field(default=10.0, gt=0, description="A health check slower than this fails.")
    api_max_body_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, description="Largest request body the API reads; larger is a 413."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    # -- pattern miner ---------------------------------------------------------------------
    miner_distance_threshold: float = Field(
        default=0.3, gt=0, lt=1, description="Structures at most this far apart (0..1) are one template."
    )
    miner_min_evidence: int = Field(default=3, ge=1, description="Posts a new pattern template needs.")
    miner_max_import_bytes: int = Field(default=20_000_000, ge=1024, description="Largest file of posts per import.")
    pattern_active_min_uses: int = Field(default=5, ge=1, description="Measured uses before experimental → active.")
    pattern_active_min_ratio: float = Field(default=0.9, ge=0, description="Engagement vs channel median to activate.")
    pattern_deprecate_min_uses: int = Field(default=10, ge=1, description="Measured uses before a template may be deprecated.")
    pattern_deprecate_window: int = Field(default=10, ge=1, description="Recent measured uses judged for deprecation.")
    pattern_deprecate_ratio: float = Field(default=0.7, ge=0, description="Below this × channel median over the window: deprecated.")
    # -- fetching the URLs tenants give (feeds, pages to write about, calibration pages) ------
    fetch_public_only: bool = Field(
        default=True, description="Tenants' URLs are fetched from public addresses only: no private, loopback, "
        "link-local or reserved address, checked after DNS and on every redirect (blocked_address).")
    fetch_allowed_networks: list[str] = Field(
        default_factory=list, max_length=100,
        description="Private networks (CIDR) tenants' URLs may still reach, e.g. [\"10.20.0.0/16\"] for an intranet feed.")
    # -- feeds (polled by the scheduler) --------------------------------------------------
    feeds_poll: bool = Field(default=True, description="The scheduler polls due feed subscriptions each tick.")
    feed_poll_batch: int = Field(default=50, ge=1, le=1000, description="Due feeds claimed per scheduler tick.")
    feed_poll_concurrency: int = Field(default=4, ge=1, le=64, description="Feeds fetched at once.")
    feed_fetch_timeout_seconds: float = Field(default=15.0, gt=0, le=300, description="Timeout of one feed fetch.")
    feed_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, description="Largest feed body read (decoded).")
    feed_backoff_base_seconds: float = Field(default=60.0, gt=0, description="First retry delay after a failed poll.")
    feed_backoff_max_seconds: float = Field(default=86400.0, gt=0, description="Longest delay between failed polls.")
    # -- publishing ------------------------------------------------------------------------
    token_keys: SecretStr | None = Field(
        default=None,
        description='AES-GCM keys sealing channel tokens, "kid:base64url-key,kid2:…" (kairo keys new makes one). '
        "Unset: a key file in data_dir, created once.",
    )
    token_key_id: str | None = Field(default=None, description="The key new tokens are sealed with; default the last listed.")
    publisher_autostart: bool | None = Field(
        default=None,
        description="The publisher actors run their publish loop from the start. Unset: `kairo up` publishes, a "
        "runtime started any other way (tests, benchmarks, a library) does not until told to.",
    )
    publisher_lease_seconds: float = Field(default=60.0, gt=0, description="A claimed job's lease; longer than a create.")
    publisher_batch: int = Field(default=20, ge=1, le=500, description="Jobs claimed per round.")
    publisher_poll_seconds: float = Field(default=2.0, gt=0, description="Wait between rounds when nothing was due.")
    publisher_http_timeout_seconds: float = Field(default=10.0, gt=0, description="Client timeout of one platform call.")
    publisher_platform_caps: dict[str, int] = Field(
        default_factory=lambda: {"x": 4, "linkedin": 4, "mastodon": 4, "bluesky": 4, "webhook": 8, "outbox": 64},
        description="Concurrent calls per adapter and publisher process.",
    )
    publish_reconcile_delay_seconds: float = Field(
        default=60.0, ge=0, description="Wait after an unconfirmed create before looking the post up."
    )
    publish_max_attempts: int = Field(default=5, ge=1, le=20, description="Attempts a publishing job gets.")
    publish_max_horizon_days: int = Field(default=90, ge=1, le=730, description="How far ahead a post may be scheduled.")
    publish_metrics_pull_hours: list[float] = Field(
        default_factory=lambda: [1.0, 24.0, 168.0], min_length=1, max_length=20,
        description="When a published post's metrics are read, in hours after it went out (a decaying schedule).",
    )
    publish_metrics_every_seconds: float | None = Field(
        default=60.0, gt=0, description="How often a publisher looks for due metrics pulls; unset: never.")
    writer_generator: Literal["composer", "openai", "local"] = Field(
        default="composer", description="Text generator of the writer: the embedded composer, an OpenAI-compatible API, a local model."
    )
    writer_max_attempts: int = Field(default=3, ge=1, le=5, description="Attempts per candidate in the critic loop.")
    writer_variants_per_plan: int = Field(default=2, ge=1, le=10, description="Variants a channel plan asks for by default.")
    gates_judge: Literal["off", "llm"] = Field(
        default="off", description="Taboo judge of the gates: none, or the OpenAI-compatible API of the KAIRO_LLM_* settings."
    )
    gates_judge_timeout_seconds: float = Field(
        default=20.0, gt=0, description="Timeout of one judge request (a check waits for it; retries as KAIRO_LLM_MAX_RETRIES)."
    )
    llm_base_url: str = Field(default="http://127.0.0.1:8080/v1", description="OpenAI-compatible API base (…/v1).")
    llm_model: str = Field(default="gpt-4o-mini", description="Model name sent to the chat-completions API.")
    llm_api_key: SecretStr | None = Field(default=None, description="Bearer key of the chat-completions API, if it needs one.")
    llm_timeout_seconds: float = Field(default=60.0, gt=0, description="Timeout of one chat-completions request.")
    llm_max_retries: int = Field(default=3, ge=0, le=10, description="Retries on 429/5xx/timeouts, with exponential backoff.")
    llm_backoff_seconds: float = Field(default=1.0, ge=0, description="First backoff delay; doubles each retry.")

    @field_validator("fetch_allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        from agents.addresses import parse_networks

        parse_networks(value)  # ValueError naming the first that is not a network
        return value

    def fetch_config(self, **fields: Any) -> Any:
        """The fetcher's configuration for a URL a tenant gave (``fields``: timeout, size cap,
        redirects), with this deployment's address policy."""
        from agents.ingest.fetch import FetchConfig

        return FetchConfig(public_only=self.fetch_public_only, allowed_networks=tuple(self.fetch_allowed_networks),
                           **fields)  # fmt: skip

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("database_url", "chroma_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
