-- The pattern miner's audit lines: a file of posts imported into a scope, and a template's
-- status moved by its usages' outcomes (experimental -> active -> deprecated). Mining runs
-- themselves are 'run_started' / 'run_finished' lines (subject_type 'pattern_mining').
--
-- The event_type vocabulary is extended in place: the values already allowed are read from the
-- current CHECK and the two new ones added, so another migration's additions are kept whatever
-- order the two were written in. storage.objects.enums.EventType mirrors the result.

DO $$
DECLARE
    allowed text[];
BEGIN
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO allowed
    FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') AS m
    WHERE c.conname = 'event_log_event_type_values' AND c.conrelid = 'event_log'::regclass;
    allowed := allowed || ARRAY['posts_imported', 'template_status_changed'];
    EXECUTE 'ALTER TABLE event_log DROP CONSTRAINT event_log_event_type_values';
    EXECUTE format('ALTER TABLE event_log ADD CONSTRAINT event_log_event_type_values CHECK (event_type IN (%s))',
                   (SELECT string_agg(DISTINCT quote_literal(v), ', ') FROM unnest(allowed) AS v));
END $$;

-- The event lines of one scope's mining runs, newest first (global runs carry no brand).
CREATE INDEX event_log_pattern_mining ON event_log (brand_id, created_at DESC)
    WHERE subject_type = 'pattern_mining';

-- A published variant's metrics reach the usages of that variant (the publisher's ingestion).
CREATE INDEX pattern_usages_variant ON pattern_usages (content_variant_id);
