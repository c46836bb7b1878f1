"""A typed client generated from the live OpenAPI document drives the main flow, and the script
that uses it type-checks: what a team integrating Kairo does on its first day.

``openapi-python-client`` generates the package from ``/openapi.json`` of the app under test;
mypy checks :data:`SCRIPT` against it (no casts, no ``Unset`` checks on fields the server always
sends), then the script runs against the API through the Serve proxy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

BIN = Path(sys.executable).parent

SCRIPT = '''
"""Onboarding → personas and pillars → snapshot → runtime context → memory → agent run."""
import sys
from uuid import UUID

from kairo_client import AuthenticatedClient
from kairo_client.api.agent import get_run, start_run
from kairo_client.api.brand_brain import create_snapshot, get_current_snapshot, get_runtime_context, update_runtime_context
from kairo_client.api.brands import create_brand, get_brand
from kairo_client.api.memory import add_memory, search_memory
from kairo_client.api.strategy import create_persona, create_pillar, list_personas
from kairo_client.models import (
    BrandCreate, BrandCreated, BrandRuntimeContext, BrandView, Channel, ChannelOverridePatch, CycleResult,
    LengthMode, MemoryCreate, MemoryHitView, Persona, PersonaCreate, PersonaDraft, PersonaPage, Pillar,
    PillarCreate, PillarDraft, RiskMode, RuntimeContextPatch, RuntimeContextPatchChannelOverrides,
    SnapshotCreate, SnapshotCreated, BrandBrainSnapshot, AgentRun, BrandMemoryFragment,
)


def main(base_url: str, token: str, slug: str) -> None:
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    created = create_brand.sync(client=client, body=BrandCreate(
        name="Fjord Analytics", slug=slug, primary_channels=[Channel.LINKEDIN, Channel.X],
        positioning="Marketing analytics that finance teams trust.",
        personas=[PersonaDraft(name="CMO", description="Owns the budget.", pain_points=["Attribution"],
                               goals=["Defend spend"])],
        pillars=[PillarDraft(name="Attribution", description="Which channel earned the sale.")],
    ))
    assert isinstance(created, BrandCreated), created
    brand_id: UUID = created.brand.id
    snapshot_version: int = created.snapshot.version

    brand = get_brand.sync(brand_id, client=client)
    assert isinstance(brand, BrandView) and brand.slug == slug

    persona = create_persona.sync(brand_id, client=client, body=PersonaCreate(
        name="Analyst", description="Builds the dashboards.", pain_points=["Messy UTMs"], goals=["One source of truth"]))
    assert isinstance(persona, Persona)
    pillar = create_pillar.sync(brand_id, client=client, body=PillarCreate(
        name="Budgets", description="Planning spend by channel.", priority=5))
    assert isinstance(pillar, Pillar)
    page = list_personas.sync(brand_id, client=client, limit=1)
    assert isinstance(page, PersonaPage) and len(page.items) == 1
    rest = list_personas.sync(brand_id, client=client, limit=10, cursor=page.next_cursor)
    assert isinstance(rest, PersonaPage)
    assert {p.id for p in page.items + rest.items} == {created.personas[0].id, persona.id}

    snapshot = create_snapshot.sync(brand_id, client=client, body=SnapshotCreate(
        expected_version=snapshot_version, positioning="Analytics a CFO signs off on.",
        persona_ids=[created.personas[0].id, persona.id], pillar_ids=[created.pillars[0].id, pillar.id]))
    assert isinstance(snapshot, SnapshotCreated)
    current = get_current_snapshot.sync(brand_id, client=client)
    assert isinstance(current, BrandBrainSnapshot) and current.version == snapshot_version + 1

    context = get_runtime_context.sync(brand_id, client=client)
    assert isinstance(context, BrandRuntimeContext)
    patched = update_runtime_context.sync(brand_id, client=client, body=RuntimeContextPatch(
        expected_version=context.version,
        channel_overrides=RuntimeContextPatchChannelOverrides(
            x=ChannelOverridePatch(length_mode=LengthMode.SHORT, risk_mode=RiskMode.SAFE))))
    assert isinstance(patched, BrandRuntimeContext) and patched.version == context.version + 1

    fragment = add_memory.sync(brand_id, client=client, body=MemoryCreate(
        raw_text="Our customers cut wasted ad spend by a fifth once attribution was fixed."))
    assert isinstance(fragment, BrandMemoryFragment)
    hits = search_memory.sync(brand_id, client=client, q="wasted ad spend", k=1)
    assert isinstance(hits, list)
    first: MemoryHitView = hits[0]
    assert first.fragment.id == fragment.id

    cycle = start_run.sync(brand_id, client=client)
    assert isinstance(cycle, CycleResult) and cycle.run is not None
    run = get_run.sync(brand_id, cycle.run.id, client=client)
    assert isinstance(run, AgentRun) and run.id == cycle.run.id
    print("flow ok", brand_id, run.result)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
'''


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", **env})  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-8000:]
    return done


@pytest.fixture(scope="module")
def generated(client, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("client")
    (root / "openapi.json").write_text(json.dumps(client.get("/openapi.json").json()))
    done = run([str(BIN / "openapi-python-client"), "generate", "--path", "openapi.json", "--meta", "none",
                "--output-path", "kairo_client"], root)  # fmt: skip
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr  # every operation and model generated
    (root / "flow.py").write_text(SCRIPT)
    return root


def test_the_generated_client_script_type_checks(generated):
    done = run([str(BIN / "mypy"), "--strict", "--no-incremental", "--follow-imports=silent", "flow.py"], generated)
    assert "Success: no issues found in 1 source file" in done.stdout, done.stdout


def test_the_generated_client_drives_the_main_flow(generated, api_url, tenant_a):
    done = run([sys.executable, "flow.py", api_url, tenant_a.token, f"client-{os.urandom(4).hex()}"], generated,
               PYTHONPATH=str(generated))  # fmt: skip
    assert "flow ok" in done.stdout
