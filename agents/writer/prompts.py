"""The prompts every model-backed generator sends (OpenAI-compatible or local): one system
message with the brand's voice and the rules, one user message with the plan, the facts and
the critic's instructions, and the JSON the answer must be.

The rules the gates and grounding enforce are stated up front (no figure, name or quote that
is not in the facts; the banned words; the length), so a model rarely needs a second try.
"""

from __future__ import annotations

import json

from .models import GenerationRequest

SYSTEM = """You write social media posts for {brand}. Write in the brand's voice: {tone}.
Rules you must follow:
- Use only the facts given. Never add a number, a name, a company or a quotation that is not in them.
- Never use these words or phrases: {avoid}.
- Follow the beats in the order given, one paragraph per beat (list beats are one line each).
- No greetings, no hashtags other than the brand's own, no placeholders or brackets.
Answer with JSON only: {{"beats": [{{"beat": "<beat name>", "text": "<the beat's text>"}}, ...]}}"""

USER = """Channel: {channel}{thread}. Write at most {budget} characters in total (hard limit {limit}).
Topic: {topic}. Reader: {persona}.
Tone knobs (0-1): {knobs}. Risk mode: {risk}.
Beats, in order:
{beats}
Thesis: {thesis}
Facts you may use:
{points}
The brand's own lines you may use: {memory}
Voice markers the brand uses: {markers}
Offers: {offers}{instructions}"""


def system_prompt(r: GenerationRequest) -> str:
    tone = ", ".join(r.tone_descriptors) or "clear and plain"
    return SYSTEM.format(brand=r.brand_name, tone=tone, avoid=", ".join(r.avoid) or "(none)")


def user_prompt(r: GenerationRequest) -> str:
    beats = "\n".join(f"- {b}: {r.beat_notes.get(b, '')}".rstrip(": ") for b in r.beats)
    instructions = ""
    if r.instructions:
        fixes = "\n".join(f"- {i.code}: {i.message}" for i in r.instructions)
        instructions = f"\nYour previous attempt was refused. Fix this:\n{fixes}"
        if r.previous:
            instructions += f"\nPrevious attempt:\n{r.previous}"
    return USER.format(
        channel=r.channel.value, thread=" (a thread; it will be split into posts)" if r.thread else "",
        budget=r.budget, limit=r.limit, topic=r.topic, persona=r.persona,
        knobs=json.dumps(r.knobs.tone_bias, sort_keys=True), risk=r.knobs.risk_mode.value, beats=beats,
        thesis=r.thesis, points="\n".join(f"- {p}" for p in r.points), memory=" | ".join(r.memory) or "(none)",
        markers=", ".join(r.voice_markers) or "(none)", offers=", ".join(r.offers) or "(none)",
        instructions=instructions,
    )


def messages(r: GenerationRequest) -> list[dict[str, str]]:
    return [{"role": "system", "content": system_prompt(r)}, {"role": "user", "content": user_prompt(r)}]


REPAIR = ("That was not valid JSON of the required shape ({error}). Answer again with JSON only: "
          '{{"beats": [{{"beat": "<beat name>", "text": "<text>"}}]}}, one entry per beat in the order given.')

__all__ = ["REPAIR", "messages", "system_prompt", "user_prompt"]
