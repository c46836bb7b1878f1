-- 0012: what a write produces beyond CO-14..CO-17, and the review's concurrency.
--
-- * Packages and variants carry a `version` that every UPDATE bumps (a trigger), so a review
--   action based on a stale read is a Conflict, never a silent overwrite.
-- * A killed (archived) package is final: its status never changes again and its variants no
--   longer change (the kill writes the variants first, then archives the package).
-- * Generation sessions (seed 001): one row per write or regeneration round, `written` with its
--   package or `failed` with the generator's reason and no package (never half-built), and the
--   writing settings of each channel plan (thread, instance limit, knobs, budget) so a later
--   regeneration writes under the same rules. Append-only.
-- * Generation attempts: every attempt of every candidate (the critic loop keeps them all):
--   its text, verdict, reasons and the instructions it was given. Append-only.

CREATE FUNCTION kairo_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END $$;

ALTER TABLE content_packages ADD COLUMN version integer NOT NULL DEFAULT 1
    CONSTRAINT content_packages_version_positive CHECK (version >= 1);
ALTER TABLE content_variants ADD COLUMN version integer NOT NULL DEFAULT 1
    CONSTRAINT content_variants_version_positive CHECK (version >= 1);

CREATE TRIGGER content_packages_version BEFORE UPDATE ON content_packages
    FOR EACH ROW EXECUTE FUNCTION kairo_bump_version();
CREATE TRIGGER content_variants_version BEFORE UPDATE ON content_variants
    FOR EACH ROW EXECUTE FUNCTION kairo_bump_version();

CREATE FUNCTION content_packages_killed_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'archived' AND NEW.status <> 'archived' THEN
        PERFORM kairo_fail('content_packages_killed_final', 'a killed (archived) package stays killed');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER content_packages_killed_final BEFORE UPDATE ON content_packages
    FOR EACH ROW EXECUTE FUNCTION content_packages_killed_final();

CREATE FUNCTION content_variants_package_live() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('kairo.purge', true) = 'on' THEN
        RETURN NEW;  -- a brand's purge nulls source_variant_id of variants it is deleting
    END IF;
    IF (SELECT status FROM content_packages WHERE id = NEW.content_package_id) = 'archived' THEN
        PERFORM kairo_fail('content_variants_package_killed', 'the variants of a killed package do not change');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER content_variants_package_live BEFORE INSERT OR UPDATE ON content_variants
    FOR EACH ROW EXECUTE FUNCTION content_variants_package_live();

CREATE FUNCTION kairo_valid_plan_settings(doc jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    item record;
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'object' THEN
        RETURN false;
    END IF;
    FOR item IN SELECT key, value FROM jsonb_each(doc) LOOP
        IF item.key !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
           OR jsonb_typeof(item.value) <> 'object'
           OR jsonb_typeof(item.value->'budget') IS DISTINCT FROM 'number'
           OR (item.value->>'budget')::numeric < 1
           OR jsonb_typeof(item.value->'thread') IS DISTINCT FROM 'boolean' THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END $$;

CREATE TABLE generation_sessions (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id           uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    content_package_id uuid,
    opportunity_id     uuid,
    round              text NOT NULL CONSTRAINT generation_sessions_round_allowed
                       CHECK (round IN ('write', 'regenerate')),
    status             text NOT NULL CONSTRAINT generation_sessions_status_allowed
                       CHECK (status IN ('written', 'failed')),
    generator          text NOT NULL CONSTRAINT generation_sessions_generator_nonblank CHECK (kairo_nonblank(generator)),
    seed               integer NOT NULL CONSTRAINT generation_sessions_seed_range CHECK (seed >= 0),
    reason             text CONSTRAINT generation_sessions_reason_short CHECK (reason IS NULL OR (kairo_nonblank(reason) AND length(reason) <= 500)),
    plan_settings      jsonb NOT NULL DEFAULT '{}' CONSTRAINT generation_sessions_plan_settings_valid
                       CHECK (kairo_valid_plan_settings(plan_settings)),
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT generation_sessions_failed_has_reason CHECK ((status = 'failed') = (reason IS NOT NULL)),
    CONSTRAINT generation_sessions_written_has_package CHECK (status = 'failed' OR content_package_id IS NOT NULL),
    CONSTRAINT generation_sessions_regenerate_has_package CHECK (round = 'write' OR content_package_id IS NOT NULL),
    CONSTRAINT generation_sessions_package_same_brand FOREIGN KEY (content_package_id, brand_id)
        REFERENCES content_packages (id, brand_id) ON DELETE CASCADE,
    CONSTRAINT generation_sessions_opportunity_same_brand FOREIGN KEY (opportunity_id, brand_id)
        REFERENCES opportunity_cards (id, brand_id) ON DELETE CASCADE,
    CONSTRAINT generation_sessions_id_brand_unique UNIQUE (id, brand_id)
);

CREATE INDEX generation_sessions_package ON generation_sessions (content_package_id, created_at);
CREATE INDEX generation_sessions_brand ON generation_sessions (brand_id, created_at DESC);

CREATE TRIGGER generation_sessions_immutable BEFORE UPDATE OR DELETE ON generation_sessions
    FOR EACH ROW EXECUTE FUNCTION kairo_refuse_change();

CREATE TABLE generation_attempts (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    generation_session_id uuid NOT NULL,
    brand_id              uuid NOT NULL,
    content_variant_id    uuid NOT NULL,
    variant_index         integer NOT NULL CONSTRAINT generation_attempts_variant_index_range
                          CHECK (variant_index BETWEEN 0 AND 9),
    attempt_number        integer NOT NULL CONSTRAINT generation_attempts_attempt_range
                          CHECK (attempt_number BETWEEN 1 AND 5),
    body                  text NOT NULL CONSTRAINT generation_attempts_body_nonblank CHECK (kairo_nonblank(body)),
    verdict               text NOT NULL CONSTRAINT generation_attempts_verdict_allowed
                          CHECK (verdict IN ('pass', 'flag', 'reject', 'ungrounded')),
    reasons               text[] NOT NULL DEFAULT '{}' CONSTRAINT generation_attempts_reasons_nonblank
                          CHECK (kairo_all_nonblank(reasons) AND cardinality(reasons) <= 50),
    instructions          jsonb NOT NULL DEFAULT '[]' CONSTRAINT generation_attempts_instructions_list
                          CHECK (jsonb_typeof(instructions) = 'array'),
    created_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT generation_attempts_failure_has_reason CHECK (verdict IN ('pass', 'flag') OR cardinality(reasons) >= 1),
    CONSTRAINT generation_attempts_one_per_number UNIQUE (content_variant_id, attempt_number),
    CONSTRAINT generation_attempts_session_same_brand FOREIGN KEY (generation_session_id, brand_id)
        REFERENCES generation_sessions (id, brand_id) ON DELETE CASCADE,
    CONSTRAINT generation_attempts_variant_same_brand FOREIGN KEY (content_variant_id, brand_id)
        REFERENCES content_variants (id, brand_id) ON DELETE CASCADE
);

CREATE INDEX generation_attempts_session ON generation_attempts (generation_session_id);

CREATE TRIGGER generation_attempts_immutable BEFORE UPDATE OR DELETE ON generation_attempts
    FOR EACH ROW EXECUTE FUNCTION kairo_refuse_change();
