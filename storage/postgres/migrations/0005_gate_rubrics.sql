-- Per-brand adjustments of the quality gates (seed 004 rubric_overrides): a threshold on the
-- gate's own 0-100 score and/or whether it rejects or only flags. Mirrors
-- agents.gates.RubricOverride: the platform gate follows the platform and is never overridden,
-- banned words have no threshold, and an override sets at least one of the two.

CREATE TABLE gate_rubric_overrides (
    brand_id   uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    rule       text NOT NULL CONSTRAINT gate_rubric_overrides_rule_values
               CHECK (rule IN ('banned_words', 'taboo', 'hook', 'similarity', 'engagement')),
    threshold  double precision CONSTRAINT gate_rubric_overrides_threshold_range CHECK (threshold BETWEEN 0 AND 100),
    severity   text CONSTRAINT gate_rubric_overrides_severity_values CHECK (severity IN ('reject', 'flag')),
    reason     text CONSTRAINT gate_rubric_overrides_reason_length
               CHECK (reason IS NULL OR (length(btrim(reason)) BETWEEN 1 AND 500)),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (brand_id, rule),
    CONSTRAINT gate_rubric_overrides_sets_something CHECK (threshold IS NOT NULL OR severity IS NOT NULL),
    CONSTRAINT gate_rubric_overrides_banned_words_no_threshold CHECK (rule <> 'banned_words' OR threshold IS NULL)
);
