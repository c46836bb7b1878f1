-- The pattern miner: one row per post (imports are idempotent), one template per structure
-- and scope, and the indexes its reads need.

-- The same post (scope, channel, text) is one row. Kairo derives a post's id from the same
-- three (agents.miner.importing.post_id), so a re-import lands on the same id; this index
-- refuses the same text under another id.
CREATE UNIQUE INDEX pattern_source_posts_same_post
    ON pattern_source_posts (coalesce(brand_id, '00000000-0000-0000-0000-000000000000'::uuid), channel, md5(raw_text));

CREATE INDEX pattern_source_posts_scope ON pattern_source_posts (brand_id, created_at);

-- Re-mining merges into the template of a structure; two templates of one structure in one
-- scope (a brand's, or the global one) would be a duplicate.
CREATE UNIQUE INDEX pattern_templates_same_structure
    ON pattern_templates (coalesce(brand_id, '00000000-0000-0000-0000-000000000000'::uuid), structure);

CREATE INDEX pattern_templates_scope_status ON pattern_templates (brand_id, status);

CREATE INDEX pattern_usages_template ON pattern_usages (pattern_template_id, created_at);
