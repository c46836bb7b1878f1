-- Publishing: where and as whom a channel publishes (adapter, endpoint, account, auth health),
-- its sealed credentials, the reconcile flag of publishing jobs, and attempts that an unconfirmed
-- create's reconciliation resolves.

-- CO-21 ChannelConfig: which adapter delivers the channel's posts: the platform's own, or the
-- embedded outbox / a webhook for any channel.
ALTER TABLE channel_configs
    ADD COLUMN adapter text NOT NULL DEFAULT 'outbox' CONSTRAINT channel_configs_adapter_known
        CHECK (adapter IN ('x', 'linkedin', 'mastodon', 'bluesky', 'webhook', 'outbox')),
    ADD COLUMN auth_status text NOT NULL DEFAULT 'ok' CONSTRAINT channel_configs_auth_status_known
        CHECK (auth_status IN ('ok', 'refresh_needed', 'revoked')),
    ADD COLUMN endpoint text CONSTRAINT channel_configs_endpoint_valid
        CHECK (btrim(endpoint) <> '' AND length(endpoint) <= 2048),
    ADD COLUMN account_ref text CONSTRAINT channel_configs_account_ref_valid
        CHECK (btrim(account_ref) <> '' AND length(account_ref) <= 300),
    ADD COLUMN token_expires_at timestamptz,
    ADD COLUMN blocked_until timestamptz,
    ADD COLUMN last_error text CONSTRAINT channel_configs_last_error_short
        CHECK (btrim(last_error) <> '' AND length(last_error) <= 500),
    ADD CONSTRAINT channel_configs_adapter_fits_channel CHECK (adapter IN ('webhook', 'outbox') OR adapter = channel),
    ADD CONSTRAINT channel_configs_auth_problem_is_error CHECK (auth_status = 'ok' OR status = 'error');

-- Secrets of a connection, never in channel_configs (which the API returns): each one an AES-GCM
-- envelope 'v1.<key id>.<base64url>' (agents/publisher/tokens.py), so a plaintext token cannot
-- be stored by mistake. One row per config; a refresh locks it (SELECT ... FOR UPDATE).
CREATE TABLE channel_credentials (
    channel_config_id uuid PRIMARY KEY REFERENCES channel_configs (id) ON DELETE CASCADE,
    access_token      text CONSTRAINT channel_credentials_access_token_sealed
                      CHECK (access_token ~ '^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+={0,2}$'),
    refresh_token     text CONSTRAINT channel_credentials_refresh_token_sealed
                      CHECK (refresh_token ~ '^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+={0,2}$'),
    client_secret     text CONSTRAINT channel_credentials_client_secret_sealed
                      CHECK (client_secret ~ '^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+={0,2}$'),
    signing_secret    text CONSTRAINT channel_credentials_signing_secret_sealed
                      CHECK (signing_secret ~ '^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]+={0,2}$'),
    client_id         text CONSTRAINT channel_credentials_client_id_valid CHECK (btrim(client_id) <> '' AND length(client_id) <= 300),
    refreshes         integer NOT NULL DEFAULT 0 CONSTRAINT channel_credentials_refreshes_nonnegative CHECK (refreshes >= 0),
    refreshed_at      timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- CO-22 PublishingJob: a pending job whose last create was sent but never confirmed is looked up
-- on the platform before anything else (agents/publisher/machine.py); looking does not count
-- as an attempt, and failed look-ups are counted so a job cannot wait forever.
ALTER TABLE publishing_jobs
    ADD COLUMN reconcile_pending boolean NOT NULL DEFAULT false,
    ADD COLUMN reconcile_checks integer NOT NULL DEFAULT 0 CONSTRAINT publishing_jobs_reconcile_checks_range
        CHECK (reconcile_checks BETWEEN 0 AND 100),
    ADD CONSTRAINT publishing_jobs_reconcile_while_open
        CHECK (NOT reconcile_pending OR status IN ('pending', 'running'));

CREATE INDEX publishing_jobs_brand_scheduled ON publishing_jobs (brand_id, scheduled_at);

-- CO-26 PublishAttempt: at most one attempt of a job is in flight (one create at a time).
CREATE UNIQUE INDEX publish_attempts_in_flight_one_per_job ON publish_attempts (publishing_job_id)
    WHERE status = 'in_flight';

-- A finished attempt is history, with one exception: an 'unconfirmed' attempt (sent, no answer)
-- is resolved once by its reconciliation, to 'success' (the post was found) or 'failed' (it is
-- certainly not there).
CREATE OR REPLACE FUNCTION publish_attempts_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('kairo.purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        PERFORM kairo_fail('publish_attempts_immutable', 'publish attempts are never deleted');
    END IF;
    IF OLD.status = 'unconfirmed' THEN
        IF NEW.status NOT IN ('success', 'failed') THEN
            PERFORM kairo_fail('publish_attempts_immutable', 'an unconfirmed attempt is only resolved to success or failed');
        END IF;
    ELSIF OLD.status <> 'in_flight' THEN
        PERFORM kairo_fail('publish_attempts_immutable', 'a finished publish attempt cannot change');
    END IF;
    IF NEW.publishing_job_id <> OLD.publishing_job_id OR NEW.attempt_index <> OLD.attempt_index
       OR NEW.started_at <> OLD.started_at THEN
        PERFORM kairo_fail('publish_attempts_immutable', 'an attempt keeps its job, index and start time');
    END IF;
    RETURN NEW;
END $$;
