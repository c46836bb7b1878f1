"""Calibration over HTTP: import examples, the tone profile and voice markers, the history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.calibration import MAX_EXAMPLES

from api_support import assert_error

pytestmark = pytest.mark.cluster

DATA = Path(__file__).parents[1] / "data" / "calibration"


def calibrations(tenant) -> str:
    return f"/v1/brands/{tenant.brand['id']}/calibrations"


def test_examples_from_a_csv_calibrate_the_brand(client, tenant_a):
    body = {"format": "csv", "content": (DATA / "ledgerline_examples.csv").read_text(),
            "banned_words": [{"word": "synergy", "severity": "soft"}]}  # fmt: skip
    response = client.post(calibrations(tenant_a), headers=tenant_a.headers, json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["snapshot"]["version"] == 2 and created["memory_fragments"] == 28
    assert "data-driven" in created["snapshot"]["tone_descriptors"]
    assert "plain" in created["snapshot"]["tone_descriptors"]  # onboarding's own label stays
    markers = {m["phrase"] for m in created["snapshot"]["voice_markers"]}
    assert {"Signal over noise", "Median time-to-insight"} <= markers
    assert created["runtime_context"]["brand_brain_snapshot_id"] == created["snapshot"]["id"]
    assert created["calibration"]["before"]["snapshot_version"] == 1
    assert created["calibration"]["after"]["voice_markers"] == [m["phrase"] for m in created["snapshot"]["voice_markers"]]

    tone = client.get(f"/v1/brands/{tenant_a.brand['id']}/tone", headers=tenant_a.headers)
    assert tone.status_code == 200, tone.text
    view = tone.json()
    assert view["snapshot_version"] == 2 and view["tone_profile"] == created["snapshot"]["tone_profile"]
    assert {w["word"]: w["severity"] for w in view["banned_words"]}["synergy"] == "soft"
    knob = created["tone"]["knobs"]["story_vs_tactical"]
    assert set(view["tone_bias"]) == {"linkedin", "x"}
    assert all(bias["story_vs_tactical"] == knob for bias in view["tone_bias"].values())

    hits = client.get(f"/v1/brands/{tenant_a.brand['id']}/memory/search", headers=tenant_a.headers,
                      params={"q": "dashboards nobody opens", "k": 3})  # fmt: skip
    assert hits.status_code == 200, hits.text
    assert hits.json()[0]["fragment"]["source_type"] == "imported_example"


def test_history_is_newest_first_and_paginated(client, tenant_a):
    body = {"format": "json", "content": (DATA / "maple_moss_examples.json").read_text()}
    response = client.post(calibrations(tenant_a), headers=tenant_a.headers, json=body)
    assert response.status_code == 201, response.text
    assert "warm" in response.json()["snapshot"]["tone_descriptors"]
    listed = client.get(calibrations(tenant_a), headers=tenant_a.headers).json()
    assert [c["sources"] for c in listed["items"][:2]] == [["json"], ["csv"]]
    assert listed["items"][0]["before"]["voice_markers"] == listed["items"][1]["after"]["voice_markers"]
    first = client.get(calibrations(tenant_a), headers=tenant_a.headers, params={"limit": 1}).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    rest = client.get(calibrations(tenant_a), headers=tenant_a.headers,
                      params={"limit": 1, "cursor": first["next_cursor"]}).json()  # fmt: skip
    assert rest["items"][0]["id"] == listed["items"][1]["id"]


@pytest.mark.parametrize(
    "body, field, row",
    [
        ({"format": "csv", "content": "date,body\n2026-01-01,hello\n"}, "body.text_field", None),
        ({"format": "csv", "content": "text\nA fine post.\n\n\"\"\nAnother.\n"}, "body.content", 2),
        ({"format": "json", "content": json.dumps(["A post.", "🌿💚🌿", "Third post."])}, "body.content", 2),
        ({"format": "paste", "content": "   \n\n  "}, "body.content", None),
        ({"format": "json", "content": json.dumps([f"Post {i} words." for i in range(MAX_EXAMPLES + 1)])}, "body.content", None),
        ({"format": "json", "content": json.dumps(["Only one.", "And two."])}, "body.content", None),
        ({"format": "xml", "content": "<a/>"}, "body.format", None),
    ],
)
def test_bad_imports_are_422s_naming_the_field_and_row(client, tenant_a, body, field, row):
    error = assert_error(client.post(calibrations(tenant_a), headers=tenant_a.headers, json=body), 422, "invalid")
    assert error["details"]["field"] == field
    if row is not None:
        assert error["details"]["row"] == row


def test_a_creator_reads_the_tone_but_cannot_calibrate_and_other_tenants_see_nothing(client, tenant_a, tenant_b):
    _, creator = tenant_a.user("creator", brand_role="creator")
    assert client.get(f"/v1/brands/{tenant_a.brand['id']}/tone", headers=creator).status_code == 200
    body = {"format": "paste", "content": "One post.\n\nTwo posts.\n\nThree posts."}
    assert_error(client.post(calibrations(tenant_a), headers=creator, json=body), 403)
    assert_error(client.get(f"/v1/brands/{tenant_a.brand['id']}/tone", headers=tenant_b.headers), 404)
    assert_error(client.post(calibrations(tenant_a), headers=tenant_b.headers, json=body), 404)


PAGE = """<html><head><title>Signal over noise</title></head><body><nav>Home | Blog | Pricing</nav><article>
<h1>Signal over noise: what 1,140 dashboards taught us</h1>
<p>The data says most dashboards are never opened. In our Q2 benchmark of 1,140 dashboards, 61% had not
been opened in 30 days.</p>
<p>One chart, one decision. If a tile cannot name the decision it supports, it is decoration, and decoration
costs query time.</p>
<p>Signal over noise applies to alerts too: we cut default notifications from 14 types to 4 and alert open
rate rose from 9% to 46%.</p>
<p>The data says definitions are infrastructure: 3 teams, 2 quarters and 1 reversed pricing decision came
from one metric defined twice.</p>
</article></body></html>"""


@pytest.fixture(scope="module")
def page_url():
    """A page served over real HTTP on 127.0.0.1, reachable from the Serve replica."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            status, body = (200, PAGE.encode()) if self.path == "/post" else (500, b"oops")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_page_url_calibrates_from_its_paragraphs(client, tenant_b, page_url):
    response = client.post(calibrations(tenant_b), headers=tenant_b.headers, json={"format": "url", "url": f"{page_url}/post"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["calibration"]["sources"] == ["url"] and created["calibration"]["example_count"] >= 3
    assert "data-driven" in created["snapshot"]["tone_descriptors"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"format": "url", "url": "http://127.0.0.1:9/never"}, "body.url"),
        ({"format": "url"}, "body.url"),
        ({"format": "url", "url": "https://example.com/a", "content": "text"}, "body.url"),
        ({"format": "csv", "url": "https://example.com/a"}, "body.content"),
    ],
)
def test_a_url_that_cannot_be_read_or_a_body_that_mixes_them_up_is_a_422(client, tenant_b, page_url, body, field):
    error = assert_error(client.post(calibrations(tenant_b), headers=tenant_b.headers, json=body), 422, "invalid")
    assert error["details"]["field"] == field


def test_a_server_error_on_the_page_is_a_422_naming_the_url(client, tenant_b, page_url):
    error = assert_error(client.post(calibrations(tenant_b), headers=tenant_b.headers,
                                     json={"format": "url", "url": f"{page_url}/gone"}), 422, "invalid")  # fmt: skip
    assert error["details"]["field"] == "body.url" and "500" in error["message"]
