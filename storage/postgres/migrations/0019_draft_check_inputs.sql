-- A stored draft check can be reproduced and read back whole: besides its text, gate_checks
-- keeps the draft's content warning (Mastodon's spoiler_text, counted in its length) and
-- whether it was checked as a thread (only X splits one), and the view quality_report_log now shows a draft's
-- length as the platform counts it and the limit it was judged by (null for attempts, whose
-- text and length are their variant's).
-- Mirrored by storage.postgres.quality (DraftCheck, QualityReportEntry).

ALTER TABLE gate_checks
    ADD COLUMN spoiler_text text CONSTRAINT gate_checks_spoiler_text_length CHECK (length(spoiler_text) BETWEEN 1 AND 40000),
    ADD COLUMN thread boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT gate_checks_spoiler_on_mastodon CHECK (spoiler_text IS NULL OR channel = 'mastodon');

CREATE OR REPLACE VIEW quality_report_log AS
    SELECT id, brand_id, 'attempt'::text AS subject, content_variant_id, attempt_number, channel, verdict,
           overall_pass, g2_hook_strength, g4_voice_alignment, g5_platform_compliance, g7_engagement_prediction,
           critic_reasons, gate_results, thresholds, brand_brain_snapshot_id, NULL::text AS text, evaluated_at,
           NULL::text AS spoiler_text, NULL::boolean AS thread, NULL::integer AS length, NULL::integer AS char_limit
    FROM quality_reports
    UNION ALL
    SELECT id, brand_id, 'draft'::text, NULL::uuid, NULL::integer, channel, verdict,
           overall_pass, g2_hook_strength, g4_voice_alignment, g5_platform_compliance, g7_engagement_prediction,
           critic_reasons, gate_results, thresholds, brand_brain_snapshot_id, text, evaluated_at,
           spoiler_text, thread, length, char_limit
    FROM gate_checks;
