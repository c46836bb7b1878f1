-- Kairo foundation schema: the canonical objects CO-01..CO-22 and the extensions CO-23..CO-29.
--
-- Every invariant the pydantic models enforce is enforced here too, so a bad row is refused even
-- when written with raw SQL. Naming: a constraint is <table>_<rule>; CHECKs over a closed
-- vocabulary are <table>_<column>_values (a test compares them with the Python enums); errors
-- raised by triggers carry a constraint name as well.
--
-- Immutable rows (snapshots, feedback events, the event log, finished publish attempts) refuse
-- UPDATE and DELETE. Deleting a brand's data on purpose (export/delete) sets
-- `SET LOCAL kairo.purge = 'on'` in its transaction; nothing else does.

-- ---------------------------------------------------------------------------------------------
-- helpers
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION kairo_all_nonblank(items text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(bool_and(item IS NOT NULL AND btrim(item) <> ''), true) FROM unnest(items) AS item
$$;

CREATE FUNCTION kairo_all_match(items text[], pattern text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(bool_and(item ~ pattern), true) FROM unnest(items) AS item
$$;

-- Every entry non-blank and at most max_length characters (a list of labels or short texts).
CREATE FUNCTION kairo_all_short(items text[], max_length integer) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(bool_and(item IS NOT NULL AND btrim(item) <> '' AND length(item) <= max_length), true)
    FROM unnest(items) AS item
$$;

-- No entry listed twice.
CREATE FUNCTION kairo_all_distinct(items anyarray) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT count(*) = count(DISTINCT item) FROM unnest(items) AS item
$$;

-- A UUID in its canonical text form (how the models serialize ids inside JSON).
CREATE FUNCTION kairo_is_uuid(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
$$;

-- Strict: false for NULL (column CHECKs use btrim(col) <> '' so that NULL passes where allowed).
CREATE FUNCTION kairo_nonblank(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT value IS NOT NULL AND btrim(value) <> '' $$;

-- A JSON object whose keys match key_pattern and whose values are numbers in [low, high].
CREATE FUNCTION kairo_numeric_map(doc jsonb, key_pattern text, low numeric, high numeric)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    entry record;
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'object' THEN
        RETURN false;
    END IF;
    FOR entry IN SELECT key, value FROM jsonb_each(doc) LOOP
        IF entry.key !~ key_pattern OR jsonb_typeof(entry.value) <> 'number'
           OR (entry.value)::numeric < low OR (entry.value)::numeric > high THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END $$;

CREATE FUNCTION kairo_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('kairo.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% rows are immutable: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = TG_TABLE_NAME || '_immutable',
              TABLE = TG_TABLE_NAME;
END $$;

CREATE FUNCTION kairo_fail(constraint_name text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', message
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = constraint_name;
END $$;

-- ---------------------------------------------------------------------------------------------
-- channels: the catalog of destinations (seed 001 "Channel"), referenced by every channel column
-- ---------------------------------------------------------------------------------------------

CREATE TABLE channels (
    key             text PRIMARY KEY CONSTRAINT channels_key_format CHECK (key ~ '^[a-z][a-z0-9_]*$'),
    name            text NOT NULL CONSTRAINT channels_name_nonblank CHECK (btrim(name) <> ''),
    max_text_length integer NOT NULL CONSTRAINT channels_max_text_length_positive CHECK (max_text_length > 0),
    counting        text NOT NULL CONSTRAINT channels_counting_values
                    CHECK (counting IN ('twitter_weighted', 'utf16', 'graphemes', 'characters'))
);

INSERT INTO channels (key, name, max_text_length, counting) VALUES
    ('linkedin', 'LinkedIn', 3000, 'utf16'),
    ('x', 'X', 280, 'twitter_weighted'),
    ('mastodon', 'Mastodon', 500, 'graphemes'),
    ('bluesky', 'Bluesky', 300, 'graphemes'),
    ('youtube_script', 'YouTube script', 5000, 'characters');

CREATE FUNCTION kairo_known_channels(items text[]) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT NOT EXISTS (
        SELECT 1 FROM unnest(items) AS item WHERE item NOT IN (SELECT key FROM channels)
    )
$$;

-- ---------------------------------------------------------------------------------------------
-- CO-23 Org, CO-04 User, CO-01 Brand, CO-24 BrandMembership, CO-25 ApiKey
-- ---------------------------------------------------------------------------------------------

CREATE TABLE orgs (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL CONSTRAINT orgs_name_nonblank CHECK (btrim(name) <> '' AND length(name) <= 120),
    slug       text NOT NULL CONSTRAINT orgs_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    status     text NOT NULL DEFAULT 'active' CONSTRAINT orgs_status_values CHECK (status IN ('active', 'suspended')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orgs_slug_unique UNIQUE (slug)
);

CREATE TABLE users (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    email      text NOT NULL CONSTRAINT users_email_format
               CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND email = lower(email) AND length(email) <= 320),
    role       text NOT NULL CONSTRAINT users_role_values CHECK (role IN ('creator', 'strategist', 'manager', 'admin')),
    status     text NOT NULL DEFAULT 'active' CONSTRAINT users_status_values CHECK (status IN ('active', 'inactive')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_unique UNIQUE (org_id, email),
    CONSTRAINT users_id_org_unique UNIQUE (id, org_id)
);

CREATE TABLE brands (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name             text NOT NULL CONSTRAINT brands_name_nonblank CHECK (btrim(name) <> '' AND length(name) <= 120),
    slug             text NOT NULL CONSTRAINT brands_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    status           text NOT NULL DEFAULT 'active' CONSTRAINT brands_status_values CHECK (status IN ('active', 'inactive')),
    owner_user_ids   uuid[] NOT NULL CONSTRAINT brands_owner_required CHECK (cardinality(owner_user_ids) >= 1),
    primary_channels text[] NOT NULL DEFAULT '{}',
    setup_complete   boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT brands_primary_channel_required CHECK (NOT setup_complete OR cardinality(primary_channels) >= 1),
    CONSTRAINT brands_updated_after_created CHECK (updated_at >= created_at),
    CONSTRAINT brands_slug_unique UNIQUE (org_id, slug),
    CONSTRAINT brands_id_org_unique UNIQUE (id, org_id)
);

CREATE FUNCTION brands_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT kairo_known_channels(NEW.primary_channels) THEN
        PERFORM kairo_fail('brands_primary_channels_known', 'primary_channels names an unknown channel');
    END IF;
    IF cardinality(NEW.primary_channels) <> (SELECT count(DISTINCT c) FROM unnest(NEW.primary_channels) c) THEN
        PERFORM kairo_fail('brands_primary_channels_unique', 'primary_channels lists a channel twice');
    END IF;
    IF cardinality(NEW.owner_user_ids) <> (
        SELECT count(*) FROM users WHERE id = ANY (NEW.owner_user_ids) AND org_id = NEW.org_id
    ) THEN
        PERFORM kairo_fail('brands_owner_exists', 'owner_user_ids must be distinct users of the brand''s org');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER brands_check_references BEFORE INSERT OR UPDATE ON brands
    FOR EACH ROW EXECUTE FUNCTION brands_check_references();

CREATE TABLE brand_memberships (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id   uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CONSTRAINT brand_memberships_role_values
               CHECK (role IN ('creator', 'strategist', 'manager', 'admin')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT brand_memberships_unique UNIQUE (brand_id, user_id)
);

CREATE FUNCTION brand_memberships_same_org() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT org_id FROM brands WHERE id = NEW.brand_id) IS DISTINCT FROM
       (SELECT org_id FROM users WHERE id = NEW.user_id) THEN
        PERFORM kairo_fail('brand_memberships_same_org', 'a user can only join brands of their own org');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER brand_memberships_same_org BEFORE INSERT OR UPDATE ON brand_memberships
    FOR EACH ROW EXECUTE FUNCTION brand_memberships_same_org();

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL CONSTRAINT api_keys_name_nonblank CHECK (btrim(name) <> ''),
    lookup       text NOT NULL CONSTRAINT api_keys_lookup_format CHECK (lookup ~ '^[0-9a-f]{12}$'),
    secret_hash  text NOT NULL CONSTRAINT api_keys_secret_hash_format CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    CONSTRAINT api_keys_lookup_unique UNIQUE (lookup),
    CONSTRAINT api_keys_expiry_after_creation CHECK (expires_at IS NULL OR expires_at > created_at)
);

-- ---------------------------------------------------------------------------------------------
-- CO-02 Persona, CO-03 Pillar
-- ---------------------------------------------------------------------------------------------

CREATE TABLE personas (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id    uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    name        text NOT NULL CONSTRAINT personas_name_nonblank CHECK (btrim(name) <> '' AND length(name) <= 120),
    description text NOT NULL CONSTRAINT personas_description_short CHECK (btrim(description) <> '' AND length(description) <= 500),
    pain_points text[] NOT NULL CONSTRAINT personas_pain_points_required
                CHECK (cardinality(pain_points) >= 1 AND kairo_all_short(pain_points, 120)),
    goals       text[] NOT NULL CONSTRAINT personas_goals_required
                CHECK (cardinality(goals) >= 1 AND kairo_all_short(goals, 120)),
    status      text NOT NULL DEFAULT 'active' CONSTRAINT personas_status_values CHECK (status IN ('active', 'hidden')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT personas_updated_after_created CHECK (updated_at >= created_at),
    CONSTRAINT personas_id_brand_unique UNIQUE (id, brand_id)
);

CREATE TABLE pillars (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id    uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    name        text NOT NULL CONSTRAINT pillars_name_nonblank CHECK (btrim(name) <> '' AND length(name) <= 120),
    description text NOT NULL CONSTRAINT pillars_description_short CHECK (btrim(description) <> '' AND length(description) <= 500),
    status      text NOT NULL DEFAULT 'active' CONSTRAINT pillars_status_values CHECK (status IN ('active', 'hidden')),
    priority    integer NOT NULL DEFAULT 0 CONSTRAINT pillars_priority_range CHECK (priority BETWEEN -1000 AND 1000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pillars_updated_after_created CHECK (updated_at >= created_at),
    CONSTRAINT pillars_id_brand_unique UNIQUE (id, brand_id)
);

-- ---------------------------------------------------------------------------------------------
-- CO-05 BrandBrainSnapshot (immutable, version n+1 per brand), CO-06 BrandRuntimeContext
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION kairo_valid_dna_list(doc jsonb, kind text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    item jsonb;
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'array' THEN
        RETURN false;
    END IF;
    FOR item IN SELECT value FROM jsonb_array_elements(doc) LOOP
        IF jsonb_typeof(item) <> 'object'
           OR NOT coalesce(item->>'source', 'manual') IN ('detected', 'manual', 'voice') THEN
            RETURN false;
        END IF;
        IF kind = 'voice_markers' AND NOT (
            kairo_nonblank(item->>'phrase') AND length(item->>'phrase') <= 120
            AND coalesce(item->>'category', 'signature') IN ('signature', 'tone', 'structure')
            AND jsonb_typeof(coalesce(item->'weight', '1')) = 'number'
            AND coalesce((item->>'weight')::numeric, 1) BETWEEN 0 AND 10) THEN
            RETURN false;
        ELSIF kind = 'banned_words' AND NOT (
            kairo_nonblank(item->>'word') AND length(item->>'word') <= 120
            AND coalesce(length(item->>'reason'), 0) <= 500
            AND coalesce(item->>'severity', 'hard') IN ('hard', 'soft')) THEN
            RETURN false;
        ELSIF kind = 'stances' AND NOT (
            kairo_nonblank(item->>'stance') AND length(item->>'stance') <= 500
            AND item->>'category' IN ('contrarian', 'authority', 'challenger', 'mentor')) THEN
            RETURN false;
        END IF;
    END LOOP;
    -- A banned word is listed once, whatever its case.
    IF kind = 'banned_words' AND EXISTS (
        SELECT 1 FROM jsonb_array_elements(doc) AS w GROUP BY lower(btrim(w->>'word')) HAVING count(*) > 1
    ) THEN
        RETURN false;
    END IF;
    RETURN true;
END $$;

CREATE TABLE brand_brain_snapshots (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id         uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    version          integer NOT NULL CONSTRAINT brand_brain_snapshots_version_positive CHECK (version >= 1),
    created_at       timestamptz NOT NULL DEFAULT now(),
    positioning      text NOT NULL CONSTRAINT brand_brain_snapshots_positioning_short
                     CHECK (btrim(positioning) <> '' AND length(positioning) <= 500),
    tone_descriptors text[] NOT NULL DEFAULT '{}' CONSTRAINT brand_brain_snapshots_tone_descriptors_nonblank
                     CHECK (kairo_all_short(tone_descriptors, 120)),
    offers           text[] NOT NULL DEFAULT '{}' CONSTRAINT brand_brain_snapshots_offers_nonblank
                     CHECK (kairo_all_short(offers, 120)),
    taboos           text[] NOT NULL DEFAULT '{}' CONSTRAINT brand_brain_snapshots_taboos_short
                     CHECK (kairo_all_short(taboos, 500)),
    persona_ids      uuid[] NOT NULL DEFAULT '{}',
    pillar_ids       uuid[] NOT NULL DEFAULT '{}',
    tone_profile     jsonb NOT NULL DEFAULT '{}' CONSTRAINT brand_brain_snapshots_tone_profile_range
                     CHECK (kairo_numeric_map(tone_profile, '^[a-z][a-z0-9_]{0,63}$', 0, 100)),
    voice_markers    jsonb NOT NULL DEFAULT '[]' CONSTRAINT brand_brain_snapshots_voice_markers_valid
                     CHECK (kairo_valid_dna_list(voice_markers, 'voice_markers')),
    banned_words     jsonb NOT NULL DEFAULT '[]' CONSTRAINT brand_brain_snapshots_banned_words_valid
                     CHECK (kairo_valid_dna_list(banned_words, 'banned_words')),
    stances          jsonb NOT NULL DEFAULT '[]' CONSTRAINT brand_brain_snapshots_stances_valid
                     CHECK (kairo_valid_dna_list(stances, 'stances')),
    CONSTRAINT brand_brain_snapshots_version_unique UNIQUE (brand_id, version),
    CONSTRAINT brand_brain_snapshots_id_brand_unique UNIQUE (id, brand_id)
);

CREATE FUNCTION brand_brain_snapshots_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    latest integer;
BEGIN
    -- Serialize snapshot creation per brand so "latest + 1" cannot race.
    PERFORM pg_advisory_xact_lock(hashtextextended('brand_brain_snapshots:' || NEW.brand_id::text, 0));
    SELECT max(version) INTO latest FROM brand_brain_snapshots WHERE brand_id = NEW.brand_id;
    IF NEW.version <> coalesce(latest, 0) + 1 THEN
        PERFORM kairo_fail('brand_brain_snapshots_version_sequence',
            format('snapshot version must be %s (latest is %s), got %s',
                   coalesce(latest, 0) + 1, coalesce(latest, 0), NEW.version));
    END IF;
    IF cardinality(NEW.persona_ids) <> (
        SELECT count(*) FROM personas WHERE id = ANY (NEW.persona_ids) AND brand_id = NEW.brand_id
    ) THEN
        PERFORM kairo_fail('brand_brain_snapshots_persona_ids_resolved',
            'persona_ids must be distinct personas of the same brand');
    END IF;
    IF cardinality(NEW.pillar_ids) <> (
        SELECT count(*) FROM pillars WHERE id = ANY (NEW.pillar_ids) AND brand_id = NEW.brand_id
    ) THEN
        PERFORM kairo_fail('brand_brain_snapshots_pillar_ids_resolved',
            'pillar_ids must be distinct pillars of the same brand');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER brand_brain_snapshots_on_insert BEFORE INSERT ON brand_brain_snapshots
    FOR EACH ROW EXECUTE FUNCTION brand_brain_snapshots_on_insert();
CREATE TRIGGER brand_brain_snapshots_immutable BEFORE UPDATE OR DELETE ON brand_brain_snapshots
    FOR EACH ROW EXECUTE FUNCTION kairo_refuse_change();

CREATE FUNCTION kairo_valid_channel_overrides(doc jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    entry record;
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'object' OR doc = '{}'::jsonb THEN
        RETURN false;
    END IF;
    FOR entry IN SELECT key, value FROM jsonb_each(doc) LOOP
        IF jsonb_typeof(entry.value) <> 'object'
           OR NOT (entry.value ? 'tone_bias' AND entry.value ? 'length_mode' AND entry.value ? 'risk_mode')
           OR (entry.value - 'tone_bias' - 'length_mode' - 'risk_mode') <> '{}'::jsonb
           OR entry.value->'tone_bias' = '{}'::jsonb
           OR NOT kairo_numeric_map(entry.value->'tone_bias', '^[a-z][a-z0-9_]{0,63}$', 0, 1)
           OR NOT (entry.value->>'length_mode') IN ('short', 'medium', 'long')
           OR NOT (entry.value->>'risk_mode') IN ('safe', 'balanced', 'spicy') THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END $$;

CREATE TABLE brand_runtime_contexts (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id                uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    brand_brain_snapshot_id uuid NOT NULL,
    channel_overrides       jsonb NOT NULL CONSTRAINT brand_runtime_contexts_channel_overrides_valid
                            CHECK (kairo_valid_channel_overrides(channel_overrides)),
    version                 integer NOT NULL DEFAULT 1 CONSTRAINT brand_runtime_contexts_version_positive CHECK (version >= 1),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT brand_runtime_contexts_one_per_brand UNIQUE (brand_id),
    CONSTRAINT brand_runtime_contexts_snapshot_same_brand FOREIGN KEY (brand_brain_snapshot_id, brand_id)
        REFERENCES brand_brain_snapshots (id, brand_id) ON DELETE CASCADE
);

CREATE FUNCTION brand_runtime_contexts_channels_known() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT kairo_known_channels(ARRAY(SELECT jsonb_object_keys(NEW.channel_overrides))) THEN
        PERFORM kairo_fail('brand_runtime_contexts_channels_known',
            'channel_overrides is keyed by an unknown channel');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER brand_runtime_contexts_channels_known BEFORE INSERT OR UPDATE ON brand_runtime_contexts
    FOR EACH ROW EXECUTE FUNCTION brand_runtime_contexts_channels_known();

-- ---------------------------------------------------------------------------------------------
-- CO-08 GlobalSourceDoc, CO-09 OpportunityCard, CO-10 OpportunityBatch
-- ---------------------------------------------------------------------------------------------

CREATE TABLE global_source_docs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid REFERENCES orgs (id) ON DELETE CASCADE,
    source_type   text NOT NULL CONSTRAINT global_source_docs_source_type_values CHECK (source_type IN (
                      'article', 'linkedin_post', 'x_post', 'mastodon_post', 'bluesky_post', 'blog_post',
                      'newsletter', 'transcript', 'pasted_text')),
    source_url    text CONSTRAINT global_source_docs_source_url_format
                  CHECK (source_url ~ '^https?://[^\s/$.?#][^\s]*$' AND length(source_url) <= 2048),
    author_handle text CONSTRAINT global_source_docs_author_handle_nonblank CHECK (btrim(author_handle) <> ''),
    title         text CONSTRAINT global_source_docs_title_short CHECK (btrim(title) <> '' AND length(title) <= 500),
    language      text NOT NULL CONSTRAINT global_source_docs_language_format
                  CHECK (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
    text          text NOT NULL CONSTRAINT global_source_docs_text_nonblank CHECK (btrim(text) <> ''),
    content_hash  text CONSTRAINT global_source_docs_content_hash_format CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    published_at  timestamptz,
    ingested_at   timestamptz NOT NULL DEFAULT now()
);

-- One document per content hash and org (public documents share org_id NULL); documents
-- without a hash never collide.
CREATE UNIQUE INDEX global_source_docs_dedupe ON global_source_docs (org_id, content_hash) NULLS NOT DISTINCT
    WHERE content_hash IS NOT NULL;

CREATE FUNCTION kairo_valid_source_refs(doc jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    item jsonb;
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'array' OR jsonb_array_length(doc) = 0 THEN
        RETURN false;
    END IF;
    FOR item IN SELECT value FROM jsonb_array_elements(doc) LOOP
        IF jsonb_typeof(item) <> 'object'
           OR (item ? 'global_source_doc_id' AND jsonb_typeof(item->'global_source_doc_id') <> 'null')
              = (item ? 'internal_trigger' AND jsonb_typeof(item->'internal_trigger') <> 'null')
           OR NOT kairo_nonblank(item->>'relevance_note') THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END $$;

CREATE TABLE opportunity_cards (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id         uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    scope            text NOT NULL DEFAULT 'brand' CONSTRAINT opportunity_cards_scope_values CHECK (scope IN ('brand', 'global')),
    persona_id       uuid,
    pillar_id        uuid,
    source_refs      jsonb NOT NULL CONSTRAINT opportunity_cards_source_refs_valid CHECK (kairo_valid_source_refs(source_refs)),
    angle_summary    text NOT NULL CONSTRAINT opportunity_cards_angle_summary_short
                     CHECK (btrim(angle_summary) <> '' AND length(angle_summary) <= 500),
    opportunity_type text NOT NULL CONSTRAINT opportunity_cards_opportunity_type_values
                     CHECK (opportunity_type IN ('trend', 'evergreen', 'competitive', 'product', 'campaign')),
    score            double precision NOT NULL CONSTRAINT opportunity_cards_score_range CHECK (score BETWEEN 0 AND 100),
    lifecycle_state  text NOT NULL DEFAULT 'new' CONSTRAINT opportunity_cards_lifecycle_state_values
                     CHECK (lifecycle_state IN ('new', 'in_progress', 'used', 'snoozed', 'dismissed')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT opportunity_cards_persona_pillar_required
        CHECK (scope = 'global' OR (persona_id IS NOT NULL AND pillar_id IS NOT NULL)),
    CONSTRAINT opportunity_cards_updated_after_created CHECK (updated_at >= created_at),
    CONSTRAINT opportunity_cards_persona_same_brand FOREIGN KEY (persona_id, brand_id) REFERENCES personas (id, brand_id),
    CONSTRAINT opportunity_cards_pillar_same_brand FOREIGN KEY (pillar_id, brand_id) REFERENCES pillars (id, brand_id),
    CONSTRAINT opportunity_cards_id_brand_unique UNIQUE (id, brand_id)
);

CREATE INDEX opportunity_cards_brand_created ON opportunity_cards (brand_id, created_at DESC);

CREATE FUNCTION opportunity_cards_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    doc_ids uuid[];
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        PERFORM kairo_fail('opportunity_cards_created_at_immutable', 'created_at of an opportunity card never changes');
    END IF;
    doc_ids := ARRAY(
        SELECT (ref->>'global_source_doc_id')::uuid FROM jsonb_array_elements(NEW.source_refs) ref
        WHERE jsonb_typeof(ref->'global_source_doc_id') = 'string');
    IF cardinality(doc_ids) > (SELECT count(*) FROM global_source_docs WHERE id = ANY (doc_ids)) THEN
        PERFORM kairo_fail('opportunity_cards_source_docs_exist', 'source_refs names a source document that does not exist');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER opportunity_cards_check BEFORE INSERT OR UPDATE ON opportunity_cards
    FOR EACH ROW EXECUTE FUNCTION opportunity_cards_check();

CREATE TABLE opportunity_batches (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id        uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    date_scope      text NOT NULL CONSTRAINT opportunity_batches_date_scope_format
                    CHECK (date_scope ~ '^\d{4}-(\d{2}-\d{2}|W(0[1-9]|[1-4]\d|5[0-3]))$'),
    opportunity_ids uuid[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT opportunity_batches_one_per_scope UNIQUE (brand_id, date_scope)
);

CREATE FUNCTION opportunity_batches_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.date_scope !~ 'W' THEN
        BEGIN
            PERFORM NEW.date_scope::date;
        EXCEPTION WHEN others THEN
            PERFORM kairo_fail('opportunity_batches_date_scope_format', 'date_scope is not a real date');
        END;
    END IF;
    IF cardinality(NEW.opportunity_ids) <> (
        SELECT count(*) FROM opportunity_cards WHERE id = ANY (NEW.opportunity_ids) AND brand_id = NEW.brand_id
    ) THEN
        PERFORM kairo_fail('opportunity_batches_cards_same_brand', 'opportunity_ids must be distinct cards of the same brand');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER opportunity_batches_check BEFORE INSERT OR UPDATE ON opportunity_batches
    FOR EACH ROW EXECUTE FUNCTION opportunity_batches_check();

-- ---------------------------------------------------------------------------------------------
-- CO-11 PatternSourcePost, CO-12 PatternTemplate
-- ---------------------------------------------------------------------------------------------

CREATE TABLE pattern_source_posts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id      uuid REFERENCES brands (id) ON DELETE CASCADE,
    is_global     boolean NOT NULL DEFAULT false,
    channel       text NOT NULL REFERENCES channels (key),
    author_handle text CONSTRAINT pattern_source_posts_author_handle_nonblank CHECK (btrim(author_handle) <> ''),
    raw_text      text NOT NULL CONSTRAINT pattern_source_posts_raw_text_nonblank CHECK (btrim(raw_text) <> ''),
    impressions   bigint CONSTRAINT pattern_source_posts_impressions_nonnegative CHECK (impressions >= 0),
    engagements   bigint CONSTRAINT pattern_source_posts_engagements_nonnegative CHECK (engagements >= 0),
    created_at    timestamptz NOT NULL,
    CONSTRAINT pattern_source_posts_brand_or_global CHECK ((brand_id IS NULL) = is_global)
);

CREATE TABLE pattern_templates (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id                uuid REFERENCES brands (id) ON DELETE CASCADE,
    name                    text NOT NULL CONSTRAINT pattern_templates_name_nonblank CHECK (btrim(name) <> '' AND length(name) <= 120),
    channel_constraints     text[] NOT NULL CONSTRAINT pattern_templates_channel_constraints_valid
                            CHECK (cardinality(channel_constraints) >= 1 AND kairo_all_distinct(channel_constraints)
                                   AND (channel_constraints = '{*}' OR NOT '*' = ANY (channel_constraints))),
    structure               text[] NOT NULL CONSTRAINT pattern_templates_structure_valid
                            CHECK (cardinality(structure) >= 1 AND kairo_all_distinct(structure)
                                   AND kairo_all_match(structure, '^[a-z][a-z0-9_]{0,63}$')),
    example_source_post_ids uuid[] NOT NULL CONSTRAINT pattern_templates_examples_required
                            CHECK (cardinality(example_source_post_ids) >= 1),
    usage_stats             jsonb NOT NULL DEFAULT '{"times_used": 0, "avg_engagement_rate": null}'
                            CONSTRAINT pattern_templates_usage_stats_valid CHECK (
                                jsonb_typeof(usage_stats->'times_used') = 'number'
                                AND (usage_stats->>'times_used')::numeric >= 0
                                AND (jsonb_typeof(coalesce(usage_stats->'avg_engagement_rate', 'null')) = 'null'
                                     OR (jsonb_typeof(usage_stats->'avg_engagement_rate') = 'number'
                                         AND (usage_stats->>'avg_engagement_rate')::numeric BETWEEN 0 AND 1))),
    status                  text NOT NULL DEFAULT 'experimental' CONSTRAINT pattern_templates_status_values
                            CHECK (status IN ('active', 'experimental', 'deprecated')),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pattern_templates_updated_after_created CHECK (updated_at >= created_at)
);

CREATE FUNCTION pattern_templates_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- "*" mixed with channels is pattern_templates_channel_constraints_valid's to report.
    IF NOT '*' = ANY (NEW.channel_constraints) AND NOT kairo_known_channels(NEW.channel_constraints) THEN
        PERFORM kairo_fail('pattern_templates_channels_known', 'channel_constraints names an unknown channel');
    END IF;
    IF cardinality(NEW.example_source_post_ids) <> (
        SELECT count(*) FROM pattern_source_posts WHERE id = ANY (NEW.example_source_post_ids)
    ) THEN
        PERFORM kairo_fail('pattern_templates_examples_exist',
            'example_source_post_ids must be distinct existing pattern source posts');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER pattern_templates_check BEFORE INSERT OR UPDATE ON pattern_templates
    FOR EACH ROW EXECUTE FUNCTION pattern_templates_check();

-- ---------------------------------------------------------------------------------------------
-- CO-07 BrandMemoryFragment (the row; its vector lives in the brand's Chroma collection)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE memory_fragments (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id            uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    source_type         text NOT NULL CONSTRAINT memory_fragments_source_type_values
                        CHECK (source_type IN ('imported_example', 'generated_hit', 'manual')),
    raw_text            text NOT NULL CONSTRAINT memory_fragments_raw_text_short
                        CHECK (btrim(raw_text) <> '' AND length(raw_text) <= 500),
    persona_id          uuid,
    pillar_id           uuid,
    pattern_template_id uuid REFERENCES pattern_templates (id) ON DELETE SET NULL,
    tags                text[] NOT NULL DEFAULT '{}' CONSTRAINT memory_fragments_tags_nonblank CHECK (kairo_all_short(tags, 120)),
    embedding_model     text NOT NULL CONSTRAINT memory_fragments_embedding_model_nonblank CHECK (btrim(embedding_model) <> ''),
    embedding_dim       integer NOT NULL CONSTRAINT memory_fragments_embedding_dim_positive CHECK (embedding_dim BETWEEN 1 AND 8192),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT memory_fragments_persona_same_brand FOREIGN KEY (persona_id, brand_id) REFERENCES personas (id, brand_id),
    CONSTRAINT memory_fragments_pillar_same_brand FOREIGN KEY (pillar_id, brand_id) REFERENCES pillars (id, brand_id)
);

CREATE INDEX memory_fragments_brand_created ON memory_fragments (brand_id, created_at DESC);

-- ---------------------------------------------------------------------------------------------
-- CO-14 ContentPackage, CO-15 CoreArgument, CO-16 ChannelPlan, CO-17 ContentVariant
-- A package and its core argument reference each other: both foreign keys are deferred, so
-- they are written in one transaction.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE content_packages (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id         uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    opportunity_id   uuid,
    origin_type      text NOT NULL DEFAULT 'opportunity' CONSTRAINT content_packages_origin_type_values
                     CHECK (origin_type IN ('opportunity', 'manual', 'evergreen_seed')),
    origin_note      text CONSTRAINT content_packages_origin_note_short CHECK (btrim(origin_note) <> '' AND length(origin_note) <= 500),
    core_argument_id uuid NOT NULL,
    status           text NOT NULL DEFAULT 'draft' CONSTRAINT content_packages_status_values
                     CHECK (status IN ('draft', 'in_review', 'approved', 'scheduled', 'published', 'archived')),
    channel_scope    text NOT NULL DEFAULT 'multi' CONSTRAINT content_packages_channel_scope_values
                     CHECK (channel_scope IN ('multi', 'single')),
    channel          text REFERENCES channels (key),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT content_packages_origin_required CHECK (
        (origin_type <> 'opportunity' OR opportunity_id IS NOT NULL)
        AND (origin_type NOT IN ('manual', 'evergreen_seed') OR (opportunity_id IS NULL AND origin_note IS NOT NULL))),
    CONSTRAINT content_packages_single_channel CHECK ((channel_scope = 'single') = (channel IS NOT NULL)),
    CONSTRAINT content_packages_updated_after_created CHECK (updated_at >= created_at),
    CONSTRAINT content_packages_opportunity_same_brand FOREIGN KEY (opportunity_id, brand_id)
        REFERENCES opportunity_cards (id, brand_id),
    CONSTRAINT content_packages_id_brand_unique UNIQUE (id, brand_id)
);

CREATE TABLE core_arguments (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    content_package_id uuid NOT NULL,
    -- Checked at COMMIT: purging a brand deletes its personas/pillars and (through its packages)
    -- its core arguments in one cascade, in no guaranteed order.
    persona_id         uuid NOT NULL REFERENCES personas (id) DEFERRABLE INITIALLY DEFERRED,
    pillar_id          uuid NOT NULL REFERENCES pillars (id) DEFERRABLE INITIALLY DEFERRED,
    thesis             text NOT NULL CONSTRAINT core_arguments_thesis_short CHECK (
                           kairo_nonblank(thesis) AND length(thesis) <= 400
                           AND regexp_count(btrim(thesis), '[.!?]+\s+\S') <= 1),
    supporting_points  text[] NOT NULL CONSTRAINT core_arguments_supporting_points_count CHECK (
                           cardinality(supporting_points) BETWEEN 3 AND 7 AND kairo_all_nonblank(supporting_points)),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT core_arguments_updated_after_created CHECK (updated_at >= created_at),
    CONSTRAINT core_arguments_one_per_package UNIQUE (content_package_id),
    CONSTRAINT core_arguments_id_package_unique UNIQUE (id, content_package_id),
    CONSTRAINT core_arguments_package_fk FOREIGN KEY (content_package_id)
        REFERENCES content_packages (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);

ALTER TABLE content_packages ADD CONSTRAINT content_packages_core_argument_fk
    FOREIGN KEY (core_argument_id, id) REFERENCES core_arguments (id, content_package_id)
    DEFERRABLE INITIALLY DEFERRED;

CREATE FUNCTION core_arguments_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.persona_id <> OLD.persona_id OR NEW.pillar_id <> OLD.pillar_id THEN
        PERFORM kairo_fail('core_arguments_persona_pillar_locked', 'persona_id and pillar_id are locked for the package');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER core_arguments_locked BEFORE UPDATE ON core_arguments
    FOR EACH ROW EXECUTE FUNCTION core_arguments_locked();

-- Checked at COMMIT: the argument may be written before its package (both FKs are deferred).
CREATE FUNCTION core_arguments_same_brand() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    package_brand uuid;
BEGIN
    SELECT brand_id INTO package_brand FROM content_packages WHERE id = NEW.content_package_id;
    IF package_brand IS NOT NULL AND EXISTS (SELECT 1 FROM core_arguments WHERE id = NEW.id) AND (
        NOT EXISTS (SELECT 1 FROM personas WHERE id = NEW.persona_id AND brand_id = package_brand)
        OR NOT EXISTS (SELECT 1 FROM pillars WHERE id = NEW.pillar_id AND brand_id = package_brand)) THEN
        PERFORM kairo_fail('core_arguments_same_brand', 'persona and pillar must belong to the package''s brand');
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER core_arguments_same_brand AFTER INSERT OR UPDATE ON core_arguments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION core_arguments_same_brand();

CREATE FUNCTION kairo_valid_pattern_bindings(doc jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    item jsonb;
    beat record;
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'array' OR jsonb_array_length(doc) = 0 THEN
        RETURN false;
    END IF;
    FOR item IN SELECT value FROM jsonb_array_elements(doc) LOOP
        IF jsonb_typeof(item) <> 'object'
           OR coalesce(item->>'pattern_template_id', '') !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
           OR jsonb_typeof(item->'beats') IS DISTINCT FROM 'object' OR item->'beats' = '{}'::jsonb
           OR jsonb_typeof(item->'target_variants') IS DISTINCT FROM 'number'
           OR (item->>'target_variants')::numeric NOT BETWEEN 1 AND 10
           OR (item->>'target_variants')::numeric <> trunc((item->>'target_variants')::numeric) THEN
            RETURN false;
        END IF;
        FOR beat IN SELECT key, value FROM jsonb_each(item->'beats') LOOP
            IF beat.key !~ '^[a-z][a-z0-9_]{0,63}$' OR jsonb_typeof(beat.value) <> 'string'
               OR NOT kairo_nonblank(beat.value #>> '{}') THEN
                RETURN false;
            END IF;
        END LOOP;
    END LOOP;
    RETURN true;
END $$;

CREATE TABLE channel_plans (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    content_package_id      uuid NOT NULL REFERENCES content_packages (id) ON DELETE CASCADE,
    channel                 text NOT NULL REFERENCES channels (key),
    -- Deferred, like the persona/pillar references of core arguments: purging a brand deletes its
    -- snapshots and (through its packages) its plans in one cascade, in no guaranteed order.
    brand_brain_snapshot_id uuid NOT NULL REFERENCES brand_brain_snapshots (id) DEFERRABLE INITIALLY DEFERRED,
    pattern_bindings        jsonb NOT NULL CONSTRAINT channel_plans_pattern_bindings_valid
                            CHECK (kairo_valid_pattern_bindings(pattern_bindings)),
    enabled                 boolean NOT NULL DEFAULT true,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT channel_plans_updated_after_created CHECK (updated_at >= created_at),
    CONSTRAINT channel_plans_one_per_channel UNIQUE (content_package_id, channel),
    CONSTRAINT channel_plans_id_package_unique UNIQUE (id, content_package_id),
    CONSTRAINT channel_plans_id_channel_unique UNIQUE (id, channel)
);

CREATE FUNCTION channel_plans_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    template_ids uuid[];
BEGIN
    IF (SELECT brand_id FROM brand_brain_snapshots WHERE id = NEW.brand_brain_snapshot_id) IS DISTINCT FROM
       (SELECT brand_id FROM content_packages WHERE id = NEW.content_package_id) THEN
        PERFORM kairo_fail('channel_plans_snapshot_same_brand', 'the snapshot must belong to the package''s brand');
    END IF;
    IF NOT kairo_valid_pattern_bindings(NEW.pattern_bindings) THEN
        RETURN NEW;  -- channel_plans_pattern_bindings_valid reports it
    END IF;
    template_ids := ARRAY(SELECT DISTINCT (b->>'pattern_template_id')::uuid FROM jsonb_array_elements(NEW.pattern_bindings) b);
    IF cardinality(template_ids) <> (
        SELECT count(*) FROM pattern_templates
        WHERE id = ANY (template_ids) AND (channel_constraints = '{*}' OR NEW.channel = ANY (channel_constraints))
    ) THEN
        PERFORM kairo_fail('channel_plans_patterns_allowed',
            'pattern_bindings names a pattern template that does not exist or does not allow this channel');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER channel_plans_check BEFORE INSERT OR UPDATE ON channel_plans
    FOR EACH ROW EXECUTE FUNCTION channel_plans_check();

-- A multi-channel package has at least one plan; a single-channel one at most one, on its channel.
CREATE FUNCTION content_packages_plans_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    package content_packages%ROWTYPE;
    package_id uuid;
    plans integer;
BEGIN
    IF TG_TABLE_NAME = 'content_packages' THEN
        package_id := NEW.id;
    ELSE
        package_id := OLD.content_package_id;
    END IF;
    SELECT * INTO package FROM content_packages WHERE id = package_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT count(*) INTO plans FROM channel_plans WHERE content_package_id = package.id;
    IF package.channel_scope = 'multi' AND plans = 0 THEN
        PERFORM kairo_fail('content_packages_channel_plans_required',
            'a multi-channel package needs at least one channel plan');
    ELSIF package.channel_scope = 'single' AND (plans > 1 OR EXISTS (
        SELECT 1 FROM channel_plans WHERE content_package_id = package.id AND channel <> package.channel)) THEN
        PERFORM kairo_fail('content_packages_single_channel', 'a single-channel package has one plan, on its channel');
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER content_packages_plans_check AFTER INSERT OR UPDATE ON content_packages
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION content_packages_plans_check();
CREATE CONSTRAINT TRIGGER channel_plans_package_check AFTER DELETE OR UPDATE ON channel_plans
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION content_packages_plans_check();

CREATE TABLE content_variants (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    content_package_id  uuid NOT NULL,
    channel_plan_id     uuid NOT NULL,
    brand_id            uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    channel             text NOT NULL REFERENCES channels (key),
    pattern_template_id uuid NOT NULL REFERENCES pattern_templates (id),
    persona_id          uuid NOT NULL,
    pillar_id           uuid NOT NULL,
    body                text NOT NULL CONSTRAINT content_variants_body_nonblank CHECK (btrim(body) <> ''),
    status              text NOT NULL DEFAULT 'draft' CONSTRAINT content_variants_status_values
                        CHECK (status IN ('draft', 'edited', 'approved', 'rejected', 'published')),
    generated_by        text NOT NULL CONSTRAINT content_variants_generated_by_nonblank CHECK (btrim(generated_by) <> ''),
    source_variant_id   uuid REFERENCES content_variants (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT content_variants_not_own_source CHECK (source_variant_id <> id),
    CONSTRAINT content_variants_updated_after_created CHECK (updated_at >= created_at),
    CONSTRAINT content_variants_package_same_brand FOREIGN KEY (content_package_id, brand_id)
        REFERENCES content_packages (id, brand_id) ON DELETE CASCADE,
    CONSTRAINT content_variants_plan_of_package FOREIGN KEY (channel_plan_id, content_package_id)
        REFERENCES channel_plans (id, content_package_id) ON DELETE CASCADE,
    CONSTRAINT content_variants_plan_channel FOREIGN KEY (channel_plan_id, channel)
        REFERENCES channel_plans (id, channel),
    CONSTRAINT content_variants_persona_same_brand FOREIGN KEY (persona_id, brand_id) REFERENCES personas (id, brand_id),
    CONSTRAINT content_variants_pillar_same_brand FOREIGN KEY (pillar_id, brand_id) REFERENCES pillars (id, brand_id),
    CONSTRAINT content_variants_id_brand_unique UNIQUE (id, brand_id),
    CONSTRAINT content_variants_id_channel_unique UNIQUE (id, channel)
);

CREATE INDEX content_variants_package ON content_variants (content_package_id);

-- ---------------------------------------------------------------------------------------------
-- CO-13 PatternUsage, CO-29 QualityReport
-- ---------------------------------------------------------------------------------------------

CREATE TABLE pattern_usages (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pattern_template_id uuid NOT NULL REFERENCES pattern_templates (id),
    content_variant_id  uuid NOT NULL,
    brand_id            uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    channel             text NOT NULL REFERENCES channels (key),
    created_at          timestamptz NOT NULL DEFAULT now(),
    outcome             jsonb CONSTRAINT pattern_usages_outcome_valid
                        CHECK (outcome IS NULL OR kairo_numeric_map(outcome, '^[a-z][a-z0-9_]{0,63}$', 0, 'Infinity')),
    CONSTRAINT pattern_usages_variant_same_brand FOREIGN KEY (content_variant_id, brand_id)
        REFERENCES content_variants (id, brand_id) ON DELETE CASCADE,
    CONSTRAINT pattern_usages_variant_channel FOREIGN KEY (content_variant_id, channel)
        REFERENCES content_variants (id, channel)
);

CREATE FUNCTION kairo_valid_critic_reasons(doc jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    item jsonb;
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'array' OR jsonb_array_length(doc) > 20 THEN
        RETURN false;
    END IF;
    FOR item IN SELECT value FROM jsonb_array_elements(doc) LOOP
        IF jsonb_typeof(item) <> 'object' OR NOT (item->>'gate') IN ('g2', 'g4', 'g5', 'g7', 'g_compliance')
           OR NOT kairo_nonblank(item->>'reason') THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END $$;

CREATE TABLE quality_reports (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id                 uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    content_variant_id       uuid NOT NULL,
    attempt_number           integer NOT NULL CONSTRAINT quality_reports_attempt_range CHECK (attempt_number BETWEEN 1 AND 3),
    g2_hook_strength         double precision NOT NULL CONSTRAINT quality_reports_g2_range CHECK (g2_hook_strength BETWEEN 0 AND 100),
    g4_voice_alignment       boolean NOT NULL,
    g5_platform_compliance   boolean NOT NULL,
    g7_engagement_prediction double precision NOT NULL CONSTRAINT quality_reports_g7_range
                             CHECK (g7_engagement_prediction BETWEEN 0 AND 100),
    overall_pass             boolean NOT NULL,
    critic_reasons           jsonb NOT NULL DEFAULT '[]' CONSTRAINT quality_reports_critic_reasons_valid
                             CHECK (kairo_valid_critic_reasons(critic_reasons)),
    evaluated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT quality_reports_verdict_consistent CHECK (
        CASE WHEN overall_pass
             THEN g4_voice_alignment AND g5_platform_compliance AND critic_reasons = '[]'::jsonb
             ELSE jsonb_array_length(critic_reasons) >= 1 END),
    CONSTRAINT quality_reports_one_per_attempt UNIQUE (content_variant_id, attempt_number),
    CONSTRAINT quality_reports_variant_same_brand FOREIGN KEY (content_variant_id, brand_id)
        REFERENCES content_variants (id, brand_id) ON DELETE CASCADE
);

-- ---------------------------------------------------------------------------------------------
-- CO-18 FeedbackEvent (append-only), CO-19 BrandPreferences, CO-20 GlobalPriors
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION kairo_valid_feedback_payload(kind text, payload jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF payload IS NULL OR jsonb_typeof(payload) <> 'object' THEN
        RETURN false;
    END IF;
    -- Optional texts are null or short; no key outside the payload type's fields.
    CASE kind
    WHEN 'variant_rating' THEN
        RETURN (payload - 'rating' - 'dimensions' - 'comment') = '{}'::jsonb
           AND jsonb_typeof(payload->'rating') = 'number'
           AND (payload->>'rating')::numeric IN (1, 2, 3, 4, 5)
           AND kairo_numeric_map(coalesce(payload->'dimensions', '{}'), '^[a-z][a-z0-9_]{0,63}$', 1, 5)
           AND NOT EXISTS (SELECT 1 FROM jsonb_each(coalesce(payload->'dimensions', '{}')) AS d
                           WHERE jsonb_typeof(d.value) = 'number' AND (d.value)::numeric <> trunc((d.value)::numeric))
           AND (jsonb_typeof(coalesce(payload->'comment', 'null')) = 'null'
                OR (kairo_nonblank(payload->>'comment') AND length(payload->>'comment') <= 500));
    WHEN 'edit_applied' THEN
        RETURN (payload - 'original_text' - 'edited_text' - 'edit_distance') = '{}'::jsonb
           AND kairo_nonblank(payload->>'original_text') AND kairo_nonblank(payload->>'edited_text')
           AND payload->>'original_text' <> payload->>'edited_text'
           AND jsonb_typeof(payload->'edit_distance') = 'number'
           AND (payload->>'edit_distance')::numeric BETWEEN 0 AND 1;
    WHEN 'never_again' THEN
        RETURN (payload - 'target' - 'phrase' - 'reason') = '{}'::jsonb
           AND payload->>'target' IN ('pattern', 'opportunity', 'phrase', 'topic')
           AND (payload->>'target' NOT IN ('phrase', 'topic') OR kairo_nonblank(payload->>'phrase'))
           AND (jsonb_typeof(coalesce(payload->'phrase', 'null')) = 'null'
                OR (kairo_nonblank(payload->>'phrase') AND length(payload->>'phrase') <= 120))
           AND (jsonb_typeof(coalesce(payload->'reason', 'null')) = 'null'
                OR (kairo_nonblank(payload->>'reason') AND length(payload->>'reason') <= 500));
    WHEN 'saved_as_example' THEN
        RETURN (payload - 'memory_fragment_id' - 'note') = '{}'::jsonb
           AND (jsonb_typeof(coalesce(payload->'memory_fragment_id', 'null')) = 'null'
                OR (jsonb_typeof(payload->'memory_fragment_id') = 'string'
                    AND kairo_is_uuid(payload->>'memory_fragment_id')))
           AND (jsonb_typeof(coalesce(payload->'note', 'null')) = 'null'
                OR (kairo_nonblank(payload->>'note') AND length(payload->>'note') <= 500));
    WHEN 'performance_snapshot' THEN
        -- captured_at is an ISO 8601 timestamp with its offset (aware), as the models write it.
        RETURN (payload - 'captured_at' - 'metrics') = '{}'::jsonb
           AND jsonb_typeof(payload->'captured_at') = 'string'
           AND payload->>'captured_at'
               ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$'
           AND jsonb_typeof(payload->'metrics') = 'object' AND payload->'metrics' <> '{}'::jsonb
           AND kairo_numeric_map(payload->'metrics', '^[a-z][a-z0-9_]{0,63}$', 0, 'Infinity');
    ELSE
        RETURN false;
    END CASE;
END $$;

CREATE TABLE feedback_events (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id            uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    user_id             uuid REFERENCES users (id),
    content_variant_id  uuid,
    pattern_template_id uuid REFERENCES pattern_templates (id),
    opportunity_id      uuid,
    feedback_type       text NOT NULL CONSTRAINT feedback_events_feedback_type_values CHECK (feedback_type IN (
                            'variant_rating', 'edit_applied', 'never_again', 'saved_as_example', 'performance_snapshot')),
    payload             jsonb NOT NULL CONSTRAINT feedback_events_payload_valid
                        CHECK (kairo_valid_feedback_payload(feedback_type, payload)),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT feedback_events_variant_required CHECK (
        feedback_type NOT IN ('variant_rating', 'edit_applied', 'performance_snapshot') OR content_variant_id IS NOT NULL),
    CONSTRAINT feedback_events_variant_same_brand FOREIGN KEY (content_variant_id, brand_id)
        REFERENCES content_variants (id, brand_id),
    CONSTRAINT feedback_events_opportunity_same_brand FOREIGN KEY (opportunity_id, brand_id)
        REFERENCES opportunity_cards (id, brand_id)
);

CREATE INDEX feedback_events_brand_created ON feedback_events (brand_id, created_at DESC);
CREATE TRIGGER feedback_events_immutable BEFORE UPDATE OR DELETE ON feedback_events
    FOR EACH ROW EXECUTE FUNCTION kairo_refuse_change();

CREATE TABLE brand_preferences (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id                    uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    pattern_weights             jsonb NOT NULL DEFAULT '{}' CONSTRAINT brand_preferences_pattern_weights_valid CHECK (
                                    kairo_numeric_map(pattern_weights,
                                        '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', 0, 10)),
    tone_bias_overrides         jsonb NOT NULL DEFAULT '{}' CONSTRAINT brand_preferences_tone_bias_valid CHECK (
                                    kairo_numeric_map(tone_bias_overrides, '^[a-z][a-z0-9_]{0,63}$', 0, 1)),
    persona_pillar_bias         jsonb NOT NULL DEFAULT '{}' CONSTRAINT brand_preferences_persona_pillar_bias_valid CHECK (
                                    kairo_numeric_map(persona_pillar_bias,
                                        '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}::'
                                        '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', 0, 10)),
    opportunity_scoring_weights jsonb NOT NULL CONSTRAINT brand_preferences_scoring_weights_valid CHECK (
                                    opportunity_scoring_weights <> '{}'::jsonb AND kairo_numeric_map(
                                        opportunity_scoring_weights,
                                        '^(brand_relevance|freshness|novelty|competitive_angle)$', 0, 10)),
    version                     integer NOT NULL DEFAULT 1 CONSTRAINT brand_preferences_version_positive CHECK (version >= 1),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT brand_preferences_one_per_brand UNIQUE (brand_id)
);

-- Aggregate stats keyed by pattern template id or channel: {times_used >= 0, avg_engagement_rate 0..1|null}.
CREATE FUNCTION kairo_valid_stats(doc jsonb, key_pattern text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    entry record;
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'object' THEN
        RETURN false;
    END IF;
    FOR entry IN SELECT key, value FROM jsonb_each(doc) LOOP
        IF entry.key !~ key_pattern OR jsonb_typeof(entry.value) <> 'object'
           OR (entry.value - 'times_used' - 'avg_engagement_rate') <> '{}'::jsonb
           OR jsonb_typeof(coalesce(entry.value->'times_used', '0')) <> 'number'
           OR coalesce((entry.value->>'times_used')::numeric, 0) < 0
           OR coalesce((entry.value->>'times_used')::numeric, 0) <> trunc(coalesce((entry.value->>'times_used')::numeric, 0))
           OR jsonb_typeof(coalesce(entry.value->'avg_engagement_rate', 'null')) NOT IN ('null', 'number')
           OR coalesce((entry.value->>'avg_engagement_rate')::numeric, 0) NOT BETWEEN 0 AND 1 THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END $$;

-- Tone biases per channel: a non-empty object of {channel: {dimension: 0..1}}.
CREATE FUNCTION kairo_valid_tone_bias_by_channel(doc jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    entry record;
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'object' OR doc = '{}'::jsonb THEN
        RETURN false;
    END IF;
    FOR entry IN SELECT key, value FROM jsonb_each(doc) LOOP
        IF entry.key !~ '^[a-z][a-z0-9_]*$'
           OR NOT kairo_numeric_map(entry.value, '^[a-z][a-z0-9_]{0,63}$', 0, 1) THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END $$;

CREATE TABLE global_priors (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    segment                     text NOT NULL DEFAULT 'default' CONSTRAINT global_priors_segment_format
                                CHECK (segment ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    pattern_stats               jsonb NOT NULL DEFAULT '{}' CONSTRAINT global_priors_pattern_stats_valid
                                CHECK (kairo_valid_stats(pattern_stats,
                                    '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')),
    channel_stats               jsonb NOT NULL DEFAULT '{}' CONSTRAINT global_priors_channel_stats_valid
                                CHECK (kairo_valid_stats(channel_stats, '^[a-z][a-z0-9_]*$')),
    default_tone_bias           jsonb NOT NULL CONSTRAINT global_priors_default_tone_bias_valid
                                CHECK (kairo_valid_tone_bias_by_channel(default_tone_bias)),
    default_opportunity_weights jsonb NOT NULL CONSTRAINT global_priors_default_weights_required CHECK (
                                    default_opportunity_weights <> '{}'::jsonb AND kairo_numeric_map(
                                        default_opportunity_weights,
                                        '^(brand_relevance|freshness|novelty|competitive_angle)$', 0, 10)),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT global_priors_segment_unique UNIQUE (segment)
);

-- Priors are anonymized: no brand's id may appear anywhere in them, their own id included.
CREATE FUNCTION global_priors_anonymous() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM brands
        WHERE id IN (
            SELECT m[1]::uuid FROM regexp_matches(
                lower(concat_ws(' ', NEW.id::text, NEW.segment, NEW.pattern_stats::text, NEW.channel_stats::text,
                                NEW.default_tone_bias::text, NEW.default_opportunity_weights::text)),
                '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})', 'g') AS m)
    ) THEN
        PERFORM kairo_fail('global_priors_no_brand_ids', 'global priors must never reference a brand id');
    END IF;
    IF NOT kairo_known_channels(ARRAY(
        SELECT jsonb_object_keys(NEW.channel_stats) UNION SELECT jsonb_object_keys(NEW.default_tone_bias))) THEN
        PERFORM kairo_fail('global_priors_channels_known', 'channel_stats or default_tone_bias names an unknown channel');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER global_priors_anonymous BEFORE INSERT OR UPDATE ON global_priors
    FOR EACH ROW EXECUTE FUNCTION global_priors_anonymous();

-- ---------------------------------------------------------------------------------------------
-- CO-21 ChannelConfig, CO-22 PublishingJob, CO-26 PublishAttempt
-- ---------------------------------------------------------------------------------------------

-- Optional whole numbers (null = no limit): posts per day/hour at least 1, the gap at least 0 s.
CREATE FUNCTION kairo_valid_rate_limits(doc jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    entry record;
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'object' THEN
        RETURN false;
    END IF;
    FOR entry IN SELECT key, value FROM jsonb_each(doc) LOOP
        IF entry.key NOT IN ('posts_per_day', 'posts_per_hour', 'min_gap_seconds') THEN
            RETURN false;
        END IF;
        CONTINUE WHEN jsonb_typeof(entry.value) = 'null';
        IF jsonb_typeof(entry.value) <> 'number'
           OR (entry.value)::numeric <> trunc((entry.value)::numeric)
           OR (entry.value)::numeric < 0
           OR ((entry.value)::numeric < 1 AND entry.key <> 'min_gap_seconds') THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END $$;

CREATE TABLE channel_configs (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id       uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    channel        text NOT NULL REFERENCES channels (key),
    status         text NOT NULL DEFAULT 'disconnected' CONSTRAINT channel_configs_status_values
                   CHECK (status IN ('connected', 'disconnected', 'error')),
    scopes         text[] NOT NULL DEFAULT '{}' CONSTRAINT channel_configs_scopes_valid
                   CHECK (cardinality(scopes) <= 64 AND kairo_all_short(scopes, 120)),
    rate_limits    jsonb NOT NULL DEFAULT '{}' CONSTRAINT channel_configs_rate_limits_valid
                   CHECK (kairo_valid_rate_limits(rate_limits)),
    account_handle text CONSTRAINT channel_configs_account_handle_nonblank CHECK (btrim(account_handle) <> ''),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT channel_configs_updated_after_created CHECK (updated_at >= created_at),
    CONSTRAINT channel_configs_one_per_channel UNIQUE (brand_id, channel)
);

CREATE TABLE publishing_jobs (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id           uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    content_variant_id uuid NOT NULL,
    channel            text NOT NULL REFERENCES channels (key),
    scheduled_at       timestamptz NOT NULL,
    status             text NOT NULL DEFAULT 'pending' CONSTRAINT publishing_jobs_status_values
                       CHECK (status IN ('pending', 'running', 'success', 'failed', 'canceled')),
    last_error         text CONSTRAINT publishing_jobs_last_error_short
                       CHECK (btrim(last_error) <> '' AND length(last_error) <= 500),
    attempts           integer NOT NULL DEFAULT 0 CONSTRAINT publishing_jobs_attempts_nonnegative CHECK (attempts >= 0),
    max_attempts       integer NOT NULL DEFAULT 5 CONSTRAINT publishing_jobs_max_attempts_range CHECK (max_attempts BETWEEN 1 AND 20),
    next_attempt_at    timestamptz,
    lease_owner        text,
    lease_expires_at   timestamptz,
    dedupe_key         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT publishing_jobs_failed_has_error CHECK (status <> 'failed' OR kairo_nonblank(last_error)),
    CONSTRAINT publishing_jobs_running_has_lease CHECK (
        status <> 'running' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CONSTRAINT publishing_jobs_attempts_within_max CHECK (attempts <= max_attempts),
    CONSTRAINT publishing_jobs_updated_after_created CHECK (updated_at >= created_at),
    CONSTRAINT publishing_jobs_dedupe_unique UNIQUE (dedupe_key),
    CONSTRAINT publishing_jobs_variant_same_brand FOREIGN KEY (content_variant_id, brand_id)
        REFERENCES content_variants (id, brand_id) ON DELETE CASCADE,
    CONSTRAINT publishing_jobs_variant_channel FOREIGN KEY (content_variant_id, channel)
        REFERENCES content_variants (id, channel)
);

-- Exactly once: a variant is published successfully at most once.
CREATE UNIQUE INDEX publishing_jobs_one_success_per_variant ON publishing_jobs (content_variant_id)
    WHERE status = 'success';
CREATE INDEX publishing_jobs_due ON publishing_jobs (scheduled_at) WHERE status = 'pending';

CREATE TABLE publish_attempts (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    publishing_job_id uuid NOT NULL REFERENCES publishing_jobs (id) ON DELETE CASCADE,
    attempt_index     integer NOT NULL CONSTRAINT publish_attempts_index_range CHECK (attempt_index BETWEEN 1 AND 20),
    status            text NOT NULL DEFAULT 'in_flight' CONSTRAINT publish_attempts_status_values
                      CHECK (status IN ('in_flight', 'success', 'failed', 'retried', 'cancelled', 'unconfirmed')),
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    external_post_id  text,
    external_url      text CONSTRAINT publish_attempts_external_url_length CHECK (length(external_url) <= 2048),
    error_code        text,
    error_message     text,
    raw_response      jsonb CONSTRAINT publish_attempts_raw_response_safe CHECK (
                          raw_response IS NULL OR (
                              length(raw_response::text) <= 4000
                              AND raw_response::text !~* '"[^"]*(token|secret|password|authorization|cookie|api[_-]?key)[^"]*"\s*:')),
    CONSTRAINT publish_attempts_one_per_index UNIQUE (publishing_job_id, attempt_index),
    CONSTRAINT publish_attempts_finished_when_final CHECK (
        (status = 'in_flight') = (finished_at IS NULL) AND (finished_at IS NULL OR finished_at >= started_at)),
    CONSTRAINT publish_attempts_success_has_post CHECK (status <> 'success' OR kairo_nonblank(external_post_id)),
    CONSTRAINT publish_attempts_failure_has_code CHECK (
        status NOT IN ('failed', 'unconfirmed') OR kairo_nonblank(error_code))
);

-- A finished attempt is history: only an in-flight attempt may change (to record its outcome).
CREATE FUNCTION publish_attempts_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('kairo.purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        PERFORM kairo_fail('publish_attempts_immutable', 'publish attempts are never deleted');
    END IF;
    IF OLD.status <> 'in_flight' THEN
        PERFORM kairo_fail('publish_attempts_immutable', 'a finished publish attempt cannot change');
    END IF;
    IF NEW.publishing_job_id <> OLD.publishing_job_id OR NEW.attempt_index <> OLD.attempt_index
       OR NEW.started_at <> OLD.started_at THEN
        PERFORM kairo_fail('publish_attempts_immutable', 'an attempt keeps its job, index and start time');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER publish_attempts_final BEFORE UPDATE OR DELETE ON publish_attempts
    FOR EACH ROW EXECUTE FUNCTION publish_attempts_final();

-- ---------------------------------------------------------------------------------------------
-- CO-27 AgentRun, CO-28 EventLog (append-only)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE agent_runs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id     uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    trigger_type text NOT NULL CONSTRAINT agent_runs_trigger_type_values
                 CHECK (trigger_type IN ('schedule', 'manual', 'trend_spike', 'retry', 'system')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    result       text CONSTRAINT agent_runs_result_values CHECK (result IN ('success', 'partial_success', 'error')),
    summary      text CONSTRAINT agent_runs_summary_nonblank CHECK (btrim(summary) <> ''),
    CONSTRAINT agent_runs_result_when_finished CHECK ((finished_at IS NULL) = (result IS NULL)),
    CONSTRAINT agent_runs_finished_after_started CHECK (finished_at IS NULL OR finished_at >= started_at)
);

CREATE INDEX agent_runs_brand_started ON agent_runs (brand_id, started_at DESC);

CREATE TABLE event_log (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid REFERENCES orgs (id) ON DELETE CASCADE,
    brand_id     uuid REFERENCES brands (id) ON DELETE CASCADE,
    user_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    run_id       uuid REFERENCES agent_runs (id) ON DELETE SET NULL,
    event_type   text NOT NULL CONSTRAINT event_log_event_type_values CHECK (event_type IN (
                     'brand_created', 'snapshot_created', 'runtime_context_updated', 'agent_state_changed',
                     'run_started', 'run_finished', 'opportunity_created', 'package_generated',
                     'publish_scheduled', 'publish_succeeded', 'publish_failed', 'feedback_recorded',
                     'preferences_updated', 'memory_added', 'error')),
    subject_type text NOT NULL CONSTRAINT event_log_subject_type_nonblank CHECK (btrim(subject_type) <> ''),
    subject_id   text,
    message      text NOT NULL CONSTRAINT event_log_message_nonblank CHECK (btrim(message) <> ''),
    meta         jsonb NOT NULL DEFAULT '{}' CONSTRAINT event_log_meta_object CHECK (jsonb_typeof(meta) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX event_log_brand_created ON event_log (brand_id, created_at DESC);

-- The log is append-only; ON DELETE SET NULL of a user or run is the one update it accepts.
CREATE FUNCTION event_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('kairo.purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        PERFORM kairo_fail('event_log_immutable', 'event log rows are append-only');
    END IF;
    IF (to_jsonb(NEW) - 'user_id' - 'run_id') <> (to_jsonb(OLD) - 'user_id' - 'run_id')
       OR (NEW.user_id IS NOT NULL AND NEW.user_id IS DISTINCT FROM OLD.user_id)
       OR (NEW.run_id IS NOT NULL AND NEW.run_id IS DISTINCT FROM OLD.run_id) THEN
        PERFORM kairo_fail('event_log_immutable', 'event log rows are append-only');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE ON event_log
    FOR EACH ROW EXECUTE FUNCTION event_log_append_only();
