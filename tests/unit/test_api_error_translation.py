"""The one place errors become HTTP answers, for the cases that need no server: a dead actor
or a timeout is a 503 envelope telling the client when to retry."""

from __future__ import annotations

import json

from ray.exceptions import ActorDiedError

from runtime.api.errors import RETRY_AFTER_SECONDS, error_response
from storage.errors import UpstreamFailure


def test_a_lost_actor_or_a_timeout_is_a_503_with_retry_after():
    for exc in (ActorDiedError(), TimeoutError("no answer")):
        response = error_response(exc)
        body = json.loads(response.body)
        assert response.status_code == 503 and body["error"]["code"] == "upstream_failure"
        assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
        assert body["error"]["details"]["retry_after"] == RETRY_AFTER_SECONDS


def test_an_upstream_failure_of_ours_says_when_to_retry_too():
    response = error_response(UpstreamFailure("the database could not complete the request"))
    assert response.status_code == 503 and response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
