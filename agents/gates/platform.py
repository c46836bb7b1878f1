"""G5 platform: the post as the platform counts it, within its limits, with nothing it refuses.

Rejects: ``empty`` (nothing but whitespace), ``over_length``, ``over_byte_limit`` (Bluesky's
3,000 UTF-8 bytes), ``invalid_characters`` (X's U+FFFE/U+FEFF/U+FFFF, unpaired surrogates).
Fix, never a rejection: ``linkedin_reserved_chars_escaped`` - LinkedIn's "little text"
silently truncates a post at the first unescaped reserved character, so they are escaped
(backslash first) in the text to send. X posts marked as a thread are split instead of
rejected (``thread_split`` flag) when each part fits, up to ``THREAD_PARTS_MAX`` parts' worth.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.objects import Channel, Gate

from .counting import Measure, measure, x_weighted_length
from .model import GateResult, Severity
from .rules import Context, Rule, finding, result
from .threads import THREAD_PARTS_MAX, split_thread

RULE = Rule(
    name="platform",
    gate=Gate.G5_PLATFORM,
    codes=("empty", "over_length", "over_byte_limit", "invalid_characters", "linkedin_reserved_chars_escaped",
           "thread_split"),  # fmt: skip
    summary="the post fits the channel as the platform counts it",
    fixes=True,
)

LINKEDIN_RESERVED = "\\|{}@[]()<>#*_~"
"""Backslash first: escaping it after the others would double the escapes just added."""


def escape_linkedin(text: str) -> str:
    """LinkedIn "little text": every reserved character backslash-escaped, backslash first."""
    for char in LINKEDIN_RESERVED:
        text = text.replace(char, "\\" + char)
    return text


@dataclass(frozen=True)
class PlatformOutcome:
    """What the report needs beyond the gate result: the count and the text(s) to send."""

    result: GateResult
    measure: Measure
    text_to_send: str
    parts: list[str]


def check(ctx: Context) -> PlatformOutcome:
    c = ctx.candidate
    text = c.text
    counted = measure(c.channel, text, c.limit, c.spoiler_text)
    findings = []
    to_send, parts = text, [text]
    if not text.strip():
        findings.append(finding(RULE, Severity.REJECT, "empty", "the post is empty or only whitespace"))
    else:
        if counted.invalid_characters:
            shown = ", ".join(f"U+{ord(ch):04X}" for ch in counted.invalid_characters)
            findings.append(finding(RULE, Severity.REJECT, "invalid_characters",
                                    f"the platform refuses these characters: {shown}", shown))  # fmt: skip
        if counted.length > counted.limit:
            if c.channel is Channel.X and c.thread and counted.length <= counted.limit * THREAD_PARTS_MAX:
                parts = split_thread(text, counted.limit, x_weighted_length, numbered=c.brand.number_threads)
                findings.append(finding(RULE, Severity.FLAG, "thread_split",
                                        f"{counted.length} > {counted.limit}: sent as a thread of {len(parts)}",
                                        str(len(parts))))  # fmt: skip
            else:
                findings.append(finding(RULE, Severity.REJECT, "over_length",
                                        f"{counted.length} counted characters, the limit is {counted.limit}",
                                        str(counted.length)))  # fmt: skip
        if counted.byte_limit is not None and (counted.byte_length or 0) > counted.byte_limit:
            findings.append(finding(RULE, Severity.REJECT, "over_byte_limit",
                                    f"{counted.byte_length} UTF-8 bytes, the limit is {counted.byte_limit}",
                                    str(counted.byte_length)))  # fmt: skip
        if c.channel is Channel.LINKEDIN:
            escaped = escape_linkedin(text)
            if escaped != text:
                reserved = "".join(sorted({ch for ch in text if ch in LINKEDIN_RESERVED}))
                findings.append(finding(RULE, Severity.FLAG, "linkedin_reserved_chars_escaped",
                                        "reserved characters are backslash-escaped in the text sent", reserved))  # fmt: skip
                to_send, parts = escaped, [escaped]
    # 100 within the limit, falling with the overshoot; 0 for an empty post.
    score = 0.0 if not text.strip() else 100.0 * min(1.0, counted.limit / max(counted.length, 1))
    return PlatformOutcome(result(RULE, score, findings), counted, to_send, parts)
