-- Audit lines for access changes made through the API: a user's role or status, an org's name
-- or status, a brand membership removed, an API key revoked.

ALTER TABLE event_log DROP CONSTRAINT event_log_event_type_values;
ALTER TABLE event_log ADD CONSTRAINT event_log_event_type_values CHECK (event_type IN (
    'brand_created', 'snapshot_created', 'runtime_context_updated', 'agent_state_changed',
    'agent_activated', 'agent_passivated', 'run_started', 'run_finished', 'opportunity_created',
    'package_generated', 'publish_scheduled', 'publish_succeeded', 'publish_failed',
    'feedback_recorded', 'preferences_updated', 'memory_added', 'api_key_created', 'error',
    'api_key_revoked', 'user_updated', 'org_updated', 'membership_removed'));

-- An org keeps at least one active admin: demoting or deactivating its last one is refused at
-- commit (deferred, so a transaction may promote another admin first). Checked on UPDATE only:
-- users are never deleted one by one, and purging an org removes its users with it.
CREATE FUNCTION users_org_keeps_active_admin() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users WHERE org_id = OLD.org_id AND role = 'admin' AND status = 'active') THEN
        PERFORM kairo_fail('users_org_keeps_active_admin',
            format('organization %s would be left without an active admin', OLD.org_id));
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER users_org_keeps_active_admin AFTER UPDATE OF role, status ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.role = 'admin' AND OLD.status = 'active' AND (NEW.role <> 'admin' OR NEW.status <> 'active'))
    EXECUTE FUNCTION users_org_keeps_active_admin();
