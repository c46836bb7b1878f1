"""Quality gates: every candidate post, generated or edited by a person, passes them before it
can be approved or scheduled.

One module per gate, each a lint rule with a stable name, reason codes, a severity and
(LinkedIn escaping) a fix: :mod:`.platform` (G5), :mod:`.banned` and :mod:`.taboo` (G4),
:mod:`.hook` (G2), :mod:`.similarity` (near-duplicates, compliance), :mod:`.engagement` (G7).
:func:`run_gates` runs them all on a :class:`GateInput` and returns a :class:`GateReport`;
:func:`quality_report` turns a report into the CO-29 row of one attempt, :func:`draft_check`
into the stored check of a draft (``storage.postgres.quality``). Plain code, no Ray: the
content writer's pool hosts it (``ContentWriter.check``).
"""

from .counting import (
    CHANNEL_LIMITS,
    Measure,
    grapheme_count,
    mastodon_length,
    measure,
    x_weighted_length,
)
from .model import (
    BrandRules,
    EngagementStats,
    Finding,
    GateInput,
    GateReport,
    GateResult,
    PriorVariant,
    Rubric,
    RubricOverride,
    RuleName,
    Severity,
)
from .platform import escape_linkedin
from .registry import GATES, RULES, check, run_gates
from .report import draft_check, quality_report
from .threads import split_thread

__all__ = [
    "CHANNEL_LIMITS",
    "GATES",
    "RULES",
    "BrandRules",
    "EngagementStats",
    "Finding",
    "GateInput",
    "GateReport",
    "GateResult",
    "Measure",
    "PriorVariant",
    "Rubric",
    "RubricOverride",
    "RuleName",
    "Severity",
    "check",
    "draft_check",
    "escape_linkedin",
    "grapheme_count",
    "mastodon_length",
    "measure",
    "quality_report",
    "run_gates",
    "split_thread",
    "x_weighted_length",
]
