"""The content writer: staged writing from an opportunity card (or a manual topic) to channel
variants that passed grounding and the quality gates.

Stages, each a pure function or a generator call:

1. :func:`.argument.argument_from_card` / :func:`.argument.argument_from_topic` → CoreArgument
   (extractive: thesis + 3-7 source sentences);
2. :func:`.planning.plan_channel` → ChannelPlan (template by pattern weights, channel and
   evidence; beats cut to the length mode; a hook from the hook library as a model);
3. a :class:`.generator.TextGenerator` (:class:`.composer.Composer`, the embedded default;
   :class:`.openai.OpenAIGenerator`) writes each variant;
4. :func:`.grounding.check_grounding` then the gates (``agents.gates.run_gates``), in the
   critic loop (:func:`.critic.critic_loop`, at most 3 attempts, every one kept).

:func:`.pipeline.write_package` runs them all; :mod:`.review` edits, approves, rejects and
kills. Plain async code, no Ray; the writer pool hosts it (``agents.engines.writer``).
"""

from .composer import Composer
from .factory import make_generator
from .generator import GenerationError, TextGenerator
from .grounding import References, check_grounding
from .models import (
    Attempt,
    BrandVoice,
    Candidate,
    ChannelRequest,
    Draft,
    GenerationRequest,
    HookRef,
    ManualTopic,
    Named,
    SourceDoc,
    WriteRequest,
    WriteResult,
)
from .pipeline import write_package
from .review import edit_distance, edit_variant, kill_package

__all__ = [
    "Attempt",
    "BrandVoice",
    "Candidate",
    "ChannelRequest",
    "Composer",
    "Draft",
    "GenerationError",
    "GenerationRequest",
    "HookRef",
    "ManualTopic",
    "Named",
    "References",
    "SourceDoc",
    "TextGenerator",
    "WriteRequest",
    "WriteResult",
    "check_grounding",
    "edit_distance",
    "edit_variant",
    "kill_package",
    "make_generator",
    "write_package",
]
