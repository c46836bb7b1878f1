-- 0013: performance ingestion. A published job's metrics are pulled from its platform on a
-- decaying schedule (1 h, 24 h, 7 d after publishing by default): one row per published job says
-- how many pulls were made, when the next one is due (null: the schedule is over), and the last
-- failure. Each pull that brings metrics is a `performance_snapshot` FeedbackEvent, and the
-- variant's PatternUsage rows take them as their outcome. A pull is a read: a short lease keeps
-- two publishers from pulling the same job at once, and losing it costs one extra read at most.

CREATE TABLE publish_metrics (
    publishing_job_id uuid PRIMARY KEY REFERENCES publishing_jobs (id) ON DELETE CASCADE,
    brand_id          uuid NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    published_at      timestamptz NOT NULL,
    pulls             integer NOT NULL DEFAULT 0 CONSTRAINT publish_metrics_pulls_range CHECK (pulls BETWEEN 0 AND 50),
    failures          integer NOT NULL DEFAULT 0 CONSTRAINT publish_metrics_failures_range CHECK (failures BETWEEN 0 AND 50),
    next_pull_at      timestamptz,
    leased_until      timestamptz,
    last_pulled_at    timestamptz,
    last_metrics      jsonb CONSTRAINT publish_metrics_last_metrics_valid
                      CHECK (last_metrics IS NULL OR kairo_numeric_map(last_metrics, '^[a-z][a-z0-9_]{0,63}$', 0, 'Infinity')),
    last_error        text CONSTRAINT publish_metrics_last_error_short CHECK (btrim(last_error) <> '' AND length(last_error) <= 500),
    CONSTRAINT publish_metrics_pulled_after_publishing CHECK (last_pulled_at IS NULL OR last_pulled_at >= published_at),
    CONSTRAINT publish_metrics_due_after_publishing CHECK (next_pull_at IS NULL OR next_pull_at >= published_at)
);

CREATE INDEX publish_metrics_due ON publish_metrics (next_pull_at) WHERE next_pull_at IS NOT NULL;

-- Only a published job is measured.
CREATE FUNCTION publish_metrics_job_published() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM publishing_jobs WHERE id = NEW.publishing_job_id AND status = 'success'
                   AND brand_id = NEW.brand_id) THEN
        PERFORM kairo_fail('publish_metrics_job_published', 'only a published job of the brand has metrics');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER publish_metrics_job_published BEFORE INSERT ON publish_metrics
    FOR EACH ROW EXECUTE FUNCTION publish_metrics_job_published();
