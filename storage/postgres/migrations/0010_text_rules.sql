-- Names are one line of text: no control character (C0 incl. tab and newline, DEL, C1), the
-- rule storage.objects.base.Label checks in pydantic. NUL needs no rule: PostgreSQL's text
-- cannot hold it at all.

ALTER TABLE orgs ADD CONSTRAINT orgs_name_no_control CHECK (name !~ '[\x01-\x1f\x7f-\x9f]');
ALTER TABLE brands ADD CONSTRAINT brands_name_no_control CHECK (name !~ '[\x01-\x1f\x7f-\x9f]');
ALTER TABLE personas ADD CONSTRAINT personas_name_no_control CHECK (name !~ '[\x01-\x1f\x7f-\x9f]');
ALTER TABLE pillars ADD CONSTRAINT pillars_name_no_control CHECK (name !~ '[\x01-\x1f\x7f-\x9f]');
ALTER TABLE api_keys ADD CONSTRAINT api_keys_name_no_control CHECK (name !~ '[\x01-\x1f\x7f-\x9f]');
ALTER TABLE pattern_templates ADD CONSTRAINT pattern_templates_name_no_control CHECK (name !~ '[\x01-\x1f\x7f-\x9f]');
