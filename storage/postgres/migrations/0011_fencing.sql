-- Fencing tokens for brand activations: the incarnation of the brand host that wrote an event or
-- a run, and a refusal in the database of a write stamped with an incarnation that no longer
-- holds the brand's activation row (a zombie host after a partition).
--
-- A brand agent's write transaction first locks its activation row (FOR SHARE) and then sets
-- the transaction-local setting kairo.incarnation; the column default reads it, so the canonical
-- objects need no field for it and writes from outside an agent (onboarding, the API) stay NULL.

ALTER TABLE event_log ADD COLUMN incarnation uuid
    DEFAULT nullif(current_setting('kairo.incarnation', true), '')::uuid;
ALTER TABLE agent_runs ADD COLUMN incarnation uuid
    DEFAULT nullif(current_setting('kairo.incarnation', true), '')::uuid;

-- A stamped row must come from the incarnation that holds the brand now. Checked on insert:
-- the agent inserts its passivation event before it deletes its activation row.
CREATE FUNCTION kairo_fenced_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.incarnation IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM agent_activations WHERE brand_id = NEW.brand_id AND incarnation = NEW.incarnation
    ) THEN
        RAISE EXCEPTION 'incarnation % does not hold the activation of brand %', NEW.incarnation, NEW.brand_id
            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_incarnation_holds_activation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER event_log_incarnation_holds_activation BEFORE INSERT ON event_log
    FOR EACH ROW EXECUTE FUNCTION kairo_fenced_write();
CREATE TRIGGER agent_runs_incarnation_holds_activation BEFORE INSERT OR UPDATE OF incarnation ON agent_runs
    FOR EACH ROW EXECUTE FUNCTION kairo_fenced_write();

CREATE INDEX event_log_incarnation ON event_log (incarnation) WHERE incarnation IS NOT NULL;
