-- Sources and the opportunity scout: competitors in the brand brain, card pin and snooze,
-- passages of source documents with their vectors, and per-brand feed subscriptions with
-- their polling health.

-- ---------------------------------------------------------------------------------------------
-- Competitors (BrandBrainSnapshot.competitors): names with optional domains and handles
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION kairo_valid_competitors(doc jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    item jsonb;
    names text[] := '{}';
BEGIN
    IF doc IS NULL OR jsonb_typeof(doc) <> 'array' OR jsonb_array_length(doc) > 100 THEN
        RETURN false;
    END IF;
    FOR item IN SELECT value FROM jsonb_array_elements(doc) LOOP
        IF jsonb_typeof(item) <> 'object'
           OR NOT (kairo_nonblank(item->>'name') AND length(item->>'name') <= 120)
           OR jsonb_typeof(coalesce(item->'domains', '[]')) <> 'array'
           OR jsonb_typeof(coalesce(item->'handles', '[]')) <> 'array'
           OR jsonb_array_length(coalesce(item->'domains', '[]')) > 20
           OR jsonb_array_length(coalesce(item->'handles', '[]')) > 20
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(item->'domains', '[]')) d
                      WHERE jsonb_typeof(d) <> 'string'
                         OR NOT (d #>> '{}') ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$')
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(item->'handles', '[]')) h
                      WHERE jsonb_typeof(h) <> 'string'
                         OR NOT (h #>> '{}') ~ '^@?[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}(@[A-Za-z0-9.-]+)?$')
           OR lower(item->>'name') = ANY (names) THEN
            RETURN false;
        END IF;
        names := names || lower(item->>'name');
    END LOOP;
    RETURN true;
END $$;

ALTER TABLE brand_brain_snapshots
    ADD COLUMN competitors jsonb NOT NULL DEFAULT '[]'
    CONSTRAINT brand_brain_snapshots_competitors_valid CHECK (kairo_valid_competitors(competitors));

-- ---------------------------------------------------------------------------------------------
-- OpportunityCard: pinned, and snoozed until a time (only while the card is snoozed)
-- ---------------------------------------------------------------------------------------------

ALTER TABLE opportunity_cards
    ADD COLUMN pinned boolean NOT NULL DEFAULT false,
    ADD COLUMN snoozed_until timestamptz,
    ADD CONSTRAINT opportunity_cards_snoozed_until_only_snoozed
        CHECK (snoozed_until IS NULL OR lifecycle_state = 'snoozed');

CREATE INDEX opportunity_cards_brand_state_score ON opportunity_cards (brand_id, lifecycle_state, score DESC);

-- ---------------------------------------------------------------------------------------------
-- Passages of a source document and their vectors: each document is embedded once, whatever
-- the number of brands that read it.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE source_doc_passages (
    doc_id    uuid NOT NULL REFERENCES global_source_docs (id) ON DELETE CASCADE,
    position  integer NOT NULL CONSTRAINT source_doc_passages_position_range CHECK (position >= 0 AND position < 64),
    text      text NOT NULL CONSTRAINT source_doc_passages_text_nonblank CHECK (btrim(text) <> ''),
    model     text NOT NULL CONSTRAINT source_doc_passages_model_nonblank CHECK (btrim(model) <> ''),
    vector    real[] NOT NULL CONSTRAINT source_doc_passages_vector_dim
              CHECK (cardinality(vector) BETWEEN 1 AND 8192),
    PRIMARY KEY (doc_id, position)
);

-- ---------------------------------------------------------------------------------------------
-- Feed subscriptions of a brand, with the state of conditional GET and polling health
-- ---------------------------------------------------------------------------------------------

CREATE TABLE feed_subscriptions (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_id             uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    url                  text NOT NULL CONSTRAINT feed_subscriptions_url_format
                         CHECK (url ~ '^https?://[^\s/$.?#][^\s]*$' AND length(url) <= 2048),
    url_key              text NOT NULL CONSTRAINT feed_subscriptions_url_key_format
                         CHECK (url_key ~ '^https://[^\s/$.?#][^\s]*$' AND length(url_key) <= 2048),
    title                text CONSTRAINT feed_subscriptions_title_short CHECK (btrim(title) <> '' AND length(title) <= 500),
    poll_interval_seconds integer NOT NULL DEFAULT 3600
                         CONSTRAINT feed_subscriptions_poll_interval_range CHECK (poll_interval_seconds BETWEEN 60 AND 604800),
    etag                 text CONSTRAINT feed_subscriptions_etag_short CHECK (length(etag) <= 1024),
    last_modified        text CONSTRAINT feed_subscriptions_last_modified_short CHECK (length(last_modified) <= 200),
    last_polled_at       timestamptz,
    last_success_at      timestamptz,
    last_error           text CONSTRAINT feed_subscriptions_last_error_short CHECK (length(last_error) <= 500),
    last_error_at        timestamptz,
    consecutive_failures integer NOT NULL DEFAULT 0
                         CONSTRAINT feed_subscriptions_failures_nonnegative CHECK (consecutive_failures >= 0),
    next_poll_at         timestamptz NOT NULL DEFAULT now(),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    version              integer NOT NULL DEFAULT 1 CONSTRAINT feed_subscriptions_version_positive CHECK (version >= 1),
    CONSTRAINT feed_subscriptions_one_per_feed UNIQUE (brand_id, url_key),
    CONSTRAINT feed_subscriptions_error_pair CHECK ((last_error IS NULL) = (last_error_at IS NULL)),
    CONSTRAINT feed_subscriptions_updated_after_created CHECK (updated_at >= created_at)
);

CREATE INDEX feed_subscriptions_due ON feed_subscriptions (next_poll_at);
