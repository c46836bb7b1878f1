-- Runtime state of brand agents (seed 002 Agent state machine), their activations, and the
-- operator org that may create other tenants.

ALTER TABLE orgs ADD COLUMN operator boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX orgs_one_operator ON orgs (operator) WHERE operator;

-- CO-30 AgentStatus: one row per brand, written with optimistic concurrency (version).
CREATE TABLE agent_states (
    brand_id        uuid PRIMARY KEY REFERENCES brands (id) ON DELETE CASCADE,
    state           text NOT NULL DEFAULT 'idle' CONSTRAINT agent_states_state_values CHECK (state IN (
                        'idle', 'planning', 'creating', 'publishing', 'analyzing', 'adapting', 'error')),
    version         integer NOT NULL DEFAULT 1 CONSTRAINT agent_states_version_positive CHECK (version >= 1),
    cadence_seconds integer NOT NULL DEFAULT 3600
                    CONSTRAINT agent_states_cadence_range CHECK (cadence_seconds BETWEEN 60 AND 604800),
    paused          boolean NOT NULL DEFAULT false,
    next_wake_at    timestamptz,
    last_run_id     uuid REFERENCES agent_runs (id) ON DELETE SET NULL,
    last_error      text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agent_states_error_has_message CHECK (state <> 'error' OR btrim(last_error) <> '')
);

CREATE INDEX agent_states_due ON agent_states (next_wake_at) WHERE NOT paused;

-- Where a brand's agent is active: at most one row per brand. A host claims the row when it
-- activates the agent and deletes it when it passivates; a host that restarted under the same
-- name takes over its own rows; another host only takes over a row whose heartbeat expired.
CREATE TABLE agent_activations (
    brand_id     uuid PRIMARY KEY REFERENCES brands (id) ON DELETE CASCADE,
    host         text NOT NULL CONSTRAINT agent_activations_host_nonblank CHECK (btrim(host) <> ''),
    incarnation  uuid NOT NULL,
    activated_at timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE event_log DROP CONSTRAINT event_log_event_type_values;
ALTER TABLE event_log ADD CONSTRAINT event_log_event_type_values CHECK (event_type IN (
    'brand_created', 'snapshot_created', 'runtime_context_updated', 'agent_state_changed',
    'agent_activated', 'agent_passivated', 'run_started', 'run_finished', 'opportunity_created',
    'package_generated', 'publish_scheduled', 'publish_succeeded', 'publish_failed',
    'feedback_recorded', 'preferences_updated', 'memory_added', 'api_key_created', 'error'));
