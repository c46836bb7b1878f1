"""G7 predicted engagement, from the template's usage stats and the channel's GlobalPriors.

Until the learner refines it, the prediction is the template's average engagement rate shrunk
towards the prior by how often the template was used (a beta-binomial style mean with
``PSEUDO_USES`` pseudo-uses at the prior's rate), scored against the prior:
``score = 100 * p / (p + prior)`` - 50 when the template does as well as the channel norm,
towards 100 when better, towards 0 when worse. Below the threshold (default 25: a third of
the norm) it raises ``low_predicted_engagement``, a flag by default (a prediction is weak
evidence); a brand's rubric may make it reject or move the threshold.
"""

from __future__ import annotations

from storage.objects import Gate

from .model import GateResult
from .rules import Context, Rule, finding, load_json, result

RULE = Rule(
    name="engagement",
    gate=Gate.G7_ENGAGEMENT,
    codes=("low_predicted_engagement",),
    summary="the template is predicted to engage at least a fraction of the channel norm",
)


def predicted_rate(template_rate: float | None, times_used: int, prior_rate: float, pseudo_uses: float) -> float:
    if template_rate is None or times_used == 0:
        return prior_rate
    return (times_used * template_rate + pseudo_uses * prior_rate) / (times_used + pseudo_uses)


def check(ctx: Context) -> GateResult:
    c = ctx.candidate
    settings = load_json("engagement.json")
    prior = c.prior.avg_engagement_rate if c.prior and c.prior.avg_engagement_rate else None
    prior_rate = prior if prior is not None else settings["default_rate"][c.channel.value]
    threshold = ctx.threshold(RULE) or 0.0
    if c.template is None:
        return result(RULE, 50.0, [], threshold, skipped=True)
    p = predicted_rate(c.template.avg_engagement_rate, c.template.times_used, prior_rate, settings["pseudo_uses"])
    score = 100.0 * p / (p + prior_rate) if p + prior_rate > 0 else 50.0
    findings = []
    if score < threshold:
        findings.append(finding(RULE, ctx.severity(RULE), "low_predicted_engagement",
                                f"predicted engagement rate {p:.2%} against a channel norm of {prior_rate:.2%}",
                                f"{p:.4f}"))  # fmt: skip
    return result(RULE, score, findings, threshold)
