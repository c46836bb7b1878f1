-- What explains a gate verdict later (CO-29, seed 004 quality_scores): every QualityReport
-- keeps each gate's result (score, pass, threshold, findings), the thresholds in force and the
-- brand brain snapshot whose rules were applied, beside the seed's four summary scores.
--
-- quality_reports stays the report of one writing attempt at one variant (attempt 1..3). A
-- person's lint of a draft that is not stored (POST /v1/brands/{id}/gates/check) is kept in
-- gate_checks with the draft's text, because no variant exists to point at. The view
-- quality_report_log lists both, with subject 'attempt' or 'draft'.
-- Mirrored by storage.postgres.quality (pydantic); the gates' vocabulary by agents.gates.

CREATE FUNCTION kairo_valid_gate_results(doc jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    item jsonb;
    found jsonb;
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'array' OR jsonb_array_length(doc) > 6 THEN
        RETURN false;
    END IF;
    FOR item IN SELECT value FROM jsonb_array_elements(doc) LOOP
        IF jsonb_typeof(item) <> 'object'
           OR NOT (item->>'rule') IN ('platform', 'banned_words', 'taboo', 'hook', 'similarity', 'engagement')
           OR NOT (item->>'gate') IN ('g2', 'g4', 'g5', 'g7', 'g_compliance')
           OR jsonb_typeof(item->'score') <> 'number' OR (item->>'score')::numeric NOT BETWEEN 0 AND 100
           OR jsonb_typeof(item->'passed') <> 'boolean'
           OR jsonb_typeof(item->'findings') <> 'array' OR jsonb_array_length(item->'findings') > 50 THEN
            RETURN false;
        END IF;
        IF item ? 'threshold' AND jsonb_typeof(item->'threshold') <> 'null'
           AND (jsonb_typeof(item->'threshold') <> 'number' OR (item->>'threshold')::numeric NOT BETWEEN 0 AND 100) THEN
            RETURN false;
        END IF;
        FOR found IN SELECT value FROM jsonb_array_elements(item->'findings') LOOP
            IF jsonb_typeof(found) <> 'object' OR NOT kairo_nonblank(found->>'code')
               OR NOT (found->>'severity') IN ('reject', 'flag') THEN
                RETURN false;
            END IF;
        END LOOP;
    END LOOP;
    RETURN true;
END $$;

ALTER TABLE quality_reports
    ADD COLUMN channel text REFERENCES channels (key),
    ADD COLUMN verdict text CONSTRAINT quality_reports_verdict_known CHECK (verdict IN ('pass', 'flag', 'reject')),
    ADD COLUMN gate_results jsonb NOT NULL DEFAULT '[]'
        CONSTRAINT quality_reports_gate_results_valid CHECK (kairo_valid_gate_results(gate_results)),
    ADD COLUMN thresholds jsonb NOT NULL DEFAULT '{}' CONSTRAINT quality_reports_thresholds_valid
        CHECK (kairo_numeric_map(thresholds, '^(banned_words|taboo|hook|similarity|engagement)$', 0, 100)),
    ADD COLUMN brand_brain_snapshot_id uuid,
    ADD CONSTRAINT quality_reports_verdict_matches CHECK (verdict IS NULL OR ((verdict = 'reject') = (NOT overall_pass))),
    ADD CONSTRAINT quality_reports_snapshot_same_brand FOREIGN KEY (brand_brain_snapshot_id, brand_id)
        REFERENCES brand_brain_snapshots (id, brand_id),
    ADD CONSTRAINT quality_reports_variant_channel FOREIGN KEY (content_variant_id, channel)
        REFERENCES content_variants (id, channel);

CREATE INDEX quality_reports_brand_evaluated ON quality_reports (brand_id, evaluated_at DESC, id DESC);

CREATE TABLE gate_checks (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id                 uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    channel                  text NOT NULL REFERENCES channels (key),
    text                     text NOT NULL CONSTRAINT gate_checks_text_length CHECK (length(text) <= 40000),
    verdict                  text NOT NULL CONSTRAINT gate_checks_verdict_known CHECK (verdict IN ('pass', 'flag', 'reject')),
    overall_pass             boolean NOT NULL,
    length                   integer NOT NULL CONSTRAINT gate_checks_length_range CHECK (length >= 0),
    char_limit               integer NOT NULL CONSTRAINT gate_checks_char_limit_range CHECK (char_limit >= 1),
    g2_hook_strength         double precision NOT NULL CONSTRAINT gate_checks_g2_range CHECK (g2_hook_strength BETWEEN 0 AND 100),
    g4_voice_alignment       boolean NOT NULL,
    g5_platform_compliance   boolean NOT NULL,
    g7_engagement_prediction double precision NOT NULL CONSTRAINT gate_checks_g7_range
                             CHECK (g7_engagement_prediction BETWEEN 0 AND 100),
    critic_reasons           jsonb NOT NULL DEFAULT '[]' CONSTRAINT gate_checks_critic_reasons_valid
                             CHECK (kairo_valid_critic_reasons(critic_reasons)),
    gate_results             jsonb NOT NULL DEFAULT '[]'
                             CONSTRAINT gate_checks_gate_results_valid CHECK (kairo_valid_gate_results(gate_results)),
    thresholds               jsonb NOT NULL DEFAULT '{}' CONSTRAINT gate_checks_thresholds_valid
                             CHECK (kairo_numeric_map(thresholds, '^(banned_words|taboo|hook|similarity|engagement)$', 0, 100)),
    brand_brain_snapshot_id  uuid,
    evaluated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT gate_checks_verdict_matches CHECK ((verdict = 'reject') = (NOT overall_pass)),
    CONSTRAINT gate_checks_verdict_consistent CHECK (
        CASE WHEN overall_pass
             THEN g4_voice_alignment AND g5_platform_compliance AND critic_reasons = '[]'::jsonb
             ELSE jsonb_array_length(critic_reasons) >= 1 END),
    CONSTRAINT gate_checks_snapshot_same_brand FOREIGN KEY (brand_brain_snapshot_id, brand_id)
        REFERENCES brand_brain_snapshots (id, brand_id)
);

CREATE INDEX gate_checks_brand_evaluated ON gate_checks (brand_id, evaluated_at DESC, id DESC);

-- A check is a record of what the gates said at the time: never changed; deleted only with its
-- brand (the purge path).
CREATE TRIGGER gate_checks_immutable BEFORE UPDATE OR DELETE ON gate_checks
    FOR EACH ROW EXECUTE FUNCTION kairo_refuse_change();

CREATE VIEW quality_report_log AS
    SELECT id, brand_id, 'attempt'::text AS subject, content_variant_id, attempt_number, channel, verdict,
           overall_pass, g2_hook_strength, g4_voice_alignment, g5_platform_compliance, g7_engagement_prediction,
           critic_reasons, gate_results, thresholds, brand_brain_snapshot_id, NULL::text AS text, evaluated_at
    FROM quality_reports
    UNION ALL
    SELECT id, brand_id, 'draft'::text, NULL::uuid, NULL::integer, channel, verdict,
           overall_pass, g2_hook_strength, g4_voice_alignment, g5_platform_compliance, g7_engagement_prediction,
           critic_reasons, gate_results, thresholds, brand_brain_snapshot_id, text, evaluated_at
    FROM gate_checks;
