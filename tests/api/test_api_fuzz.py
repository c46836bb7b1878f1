"""Schemathesis against the live API through the Serve proxy: every operation of
``/openapi.json``, all checks, real ids in the path, an org admin's key; it must report no
failure. New routes are fuzzed the day they are added.

Throwaway objects stand behind the ids whose operations are destructive (a key to revoke, a
user to demote, a member to remove), so the fuzzer cannot lock itself out halfway.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api_support import (
    checked_report, generation_session, mined_template, scheduled_job, scouted_card, subscribed_feed, written_package,
)  # fmt: skip

pytestmark = pytest.mark.cluster

MAX_EXAMPLES = 12
SEED = 20261201
# Operations whose body carries a document as text (a CSV or JSON file): JSON Schema can say it
# is a string, not that it is a well-formed CSV with a text column, so a schema-valid body may
# still be a 422 naming what is wrong inside it. Every other check stays on for them.
EMBEDDED_DOCUMENTS = ("create_calibration", "import_brand_posts", "import_global_posts")
# An edit of a variant is checked by its channel's platform gate (X's weighted length, Bluesky's
# graphemes, characters the platform refuses): JSON Schema cannot state those counting rules, so a
# schema-valid text may be a 422 naming the gate's reasons. Every other check stays on.
EMBEDDED_DOCUMENTS += ("update_variant",)
# A package about a page at a URL fetches the page: JSON Schema can say the URL is http(s), not
# that it answers with an article, so a schema-valid URL may be a 422 naming `source.url`.
EMBEDDED_DOCUMENTS += ("create_package",)
ACCEPTED_OR_DOCUMENT_REFUSED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
# Operations whose schema allows bodies larger than the API's body limit (many long articles at
# once): a schema-violating body the fuzzer makes huge is refused before it is read, with a 413.
BODY_LIMITED = ("add_sources",)
REFUSED_OR_TOO_LARGE = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]


@pytest.fixture(scope="module")
async def fuzz_ids(client, tenant_a, api_db) -> dict[str, str | int]:
    """Real ids for every path parameter of the API."""
    brand_id = tenant_a.brand["id"]
    victim, _ = tenant_a.user("creator", brand_role="creator")
    key = client.post(f"/v1/users/{victim['id']}/api-keys", headers=tenant_a.headers, json={"name": "fuzz"})
    assert key.status_code == 201, key.text
    run = client.post(f"/v1/brands/{brand_id}/runs", headers=tenant_a.headers)
    assert run.status_code == 201, run.text
    return {
        "template_id": mined_template(client, tenant_a),
        "card_id": scouted_card(client, tenant_a),
        "report_id": checked_report(client, tenant_a),
        "feed_id": subscribed_feed(client, tenant_a),
        **await scheduled_job(client, tenant_a, api_db),
        **{k: v for k, v in written_package(client, tenant_a).items() if k in ("package_id", "variant_id")},
        "session_id": generation_session(client, tenant_a),
        "brand_id": brand_id,
        "persona_id": tenant_a.onboarded["personas"][0]["id"],
        "pillar_id": tenant_a.onboarded["pillars"][0]["id"],
        "version": 1,
        "run_id": run.json()["run"]["id"],
        "org_id": tenant_a.org["id"],
        "user_id": victim["id"],
        "key_id": key.json()["api_key"]["id"],
    }


def test_schemathesis_finds_nothing(api_url, client, tenant_a, fuzz_ids, tmp_path: Path):
    spec = client.get("/openapi.json").json()
    params = {part[1:-1] for path in spec["paths"] for part in path.split("/") if part.startswith("{")}
    missing = params - set(fuzz_ids)
    assert not missing, f"give the fuzzer a real id for {sorted(missing)}"

    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[parameters]\n" + "".join(f'"path.{name}" = {toml_value(value)}\n' for name, value in fuzz_ids.items())
        + "".join(f'\n[[operations]]\ninclude-operation-id = "{op}"\n'
                  f"checks.positive_data_acceptance.expected-statuses = {ACCEPTED_OR_DOCUMENT_REFUSED}\n"
                  for op in EMBEDDED_DOCUMENTS if op in operation_ids(spec))
        + "".join(f'\n[[operations]]\ninclude-operation-id = "{op}"\n'
                  f"checks.negative_data_rejection.expected-statuses = {REFUSED_OR_TOO_LARGE}\n"
                  for op in BODY_LIMITED if op in operation_ids(spec))
    )  # fmt: skip
    report = tmp_path / "report"
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "--no-color", "run",
        f"{api_url}/openapi.json", "--url", api_url,
        "--header", f"Authorization: Bearer {tenant_a.token}",
        "--checks", "all", "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "2",
        "--request-timeout", "60", "--max-response-time", "30", "--suppress-health-check", "all",
        "--report", "junit", "--report-dir", str(report),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "SCHEMATHESIS_HOOKS": ""})  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, failures(report) or output[-12000:]
    summary = output[output.rfind("API Operations:"):]
    tested = int(summary.split("Tested:")[1].split()[0])
    assert tested == sum(len(item) for item in spec["paths"].values()), summary


def operation_ids(spec: dict) -> set[str]:
    return {op["operationId"] for item in spec["paths"].values() for op in item.values()}


def toml_value(value: str | int) -> str:
    return str(value) if isinstance(value, int) else f'"{value}"'


def failures(report: Path) -> str:
    """Each failing operation with its failures' first lines, from the run's JUnit report."""
    import xml.etree.ElementTree as ET

    lines = []
    for xml in report.glob("*.xml"):
        for case in ET.parse(xml).iter("testcase"):
            for failure in [*case.iter("failure"), *case.iter("error")]:
                text = " ".join(filter(None, (failure.get("message"), failure.text))).strip()
                lines.append(f"{case.get('name')}: {text[:1500]}")
    return "\n".join(lines)
