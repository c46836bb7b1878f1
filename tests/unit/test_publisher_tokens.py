"""Token encryption (AES-GCM, key ids, rotation) and rate-limit buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agents.publisher.outcomes import RateWindow
from agents.publisher.ratelimit import Buckets, TokenBucket
from agents.publisher.tokens import TokenCipher, TokenKeyError, new_key, parse_keys

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def cipher(*kids: str, current: str | None = None) -> TokenCipher:
    keys = parse_keys(",".join(f"{k}:{new_key()}" for k in kids))
    return TokenCipher(keys, current or kids[-1])


def test_round_trip_names_the_key_and_hides_the_plaintext():
    c = cipher("k1")
    envelope = c.encrypt("secret-access-token", "row-1/access")
    assert envelope.startswith("v1.k1.") and "secret-access-token" not in envelope
    assert c.decrypt(envelope, "row-1/access") == "secret-access-token"
    assert c.encrypt("same", "a") != c.encrypt("same", "a")  # fresh nonce each time


def test_ciphertext_is_bound_to_its_row_and_field():
    c = cipher("k1")
    envelope = c.encrypt("t", "row-1/access")
    for aad in ("row-2/access", "row-1/refresh"):
        with pytest.raises(TokenKeyError):
            c.decrypt(envelope, aad)


def test_tampering_and_unknown_keys_are_refused():
    c = cipher("k1")
    envelope = c.encrypt("t", "a")
    tampered = envelope[:-3] + ("A" if envelope[-3] != "A" else "B") + envelope[-2:]
    with pytest.raises(TokenKeyError):
        c.decrypt(tampered, "a")
    with pytest.raises(TokenKeyError):
        cipher("other").decrypt(envelope, "a")
    with pytest.raises(TokenKeyError):
        c.decrypt("plain-token", "a")


def test_rotation_re_encrypts_under_the_current_key_and_old_keys_still_open():
    old = cipher("k1")
    envelope = old.encrypt("t", "a")
    both = TokenCipher({**old.keys, **parse_keys(f"k2:{new_key()}")}, "k2")
    rotated = both.rotate(envelope, "a")
    assert TokenCipher.key_id(rotated) == "k2" and both.decrypt(rotated, "a") == "t"
    assert both.rotate(rotated, "a") is None


@pytest.mark.parametrize("spec", ["bad id!:AAAA", "k1:" + "A" * 8, "k1"])
def test_key_specs_are_validated(spec):
    with pytest.raises(ValueError):
        parse_keys(spec)


def test_bucket_adopts_the_platforms_count_and_waits_for_reset():
    bucket = TokenBucket(capacity=100, window=timedelta(minutes=15))
    bucket.observe(RateWindow(limit=200, remaining=1, reset_at=NOW + timedelta(minutes=3)), NOW)
    assert bucket.wait_until(NOW) is None
    assert bucket.wait_until(NOW) == NOW + timedelta(minutes=3)
    assert bucket.wait_until(NOW + timedelta(minutes=4)) is None  # full again after the reset
    assert bucket.capacity == 200


def test_bucket_without_headers_refills_at_its_rate_and_blocks_on_429():
    bucket = TokenBucket(capacity=2, window=timedelta(seconds=60))
    assert bucket.wait_until(NOW) is None and bucket.wait_until(NOW) is None
    wait = bucket.wait_until(NOW)
    assert wait == NOW + timedelta(seconds=30)
    assert bucket.wait_until(NOW + timedelta(seconds=31)) is None
    bucket.block(NOW + timedelta(hours=2))
    assert bucket.wait_until(NOW + timedelta(hours=1)) == NOW + timedelta(hours=2)


def test_available_counts_what_may_go_now_without_taking_it():
    """What the claim's first attempts are budgeted by: a look, not a spend."""
    bucket = TokenBucket(capacity=3, window=timedelta(seconds=60))
    assert bucket.available(NOW) == 3 and bucket.available(NOW) == 3
    assert bucket.wait_until(NOW) is None
    assert bucket.available(NOW) == 2
    bucket.block(NOW + timedelta(minutes=5))
    assert bucket.available(NOW + timedelta(minutes=1)) == 0
    assert bucket.available(NOW + timedelta(minutes=5)) == 3  # full again at the reset


def test_buckets_are_per_connection():
    buckets = Buckets(default_capacity=1)
    assert buckets.get("a").wait_until(NOW) is None
    assert buckets.get("a").wait_until(NOW) is not None
    assert buckets.get("b").wait_until(NOW) is None
