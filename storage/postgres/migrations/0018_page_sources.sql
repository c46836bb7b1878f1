-- 0018: a package written about a page (a URL) names the page.
--
-- The page is fetched, extracted and stored as a source document (deduplicated like any
-- ingestion: a URL already ingested is reused), and each generation round of the package
-- (seed 001's generation sessions) records the document it was written from, so a later
-- regeneration grounds its variants on the same page and a user can see where a round's facts
-- came from. Rounds written from a card or a manual topic have none. The document belongs to
-- the brand's tenant or is public (it is what ingestion allows the brand to read).

ALTER TABLE generation_sessions ADD COLUMN source_doc_id uuid
    REFERENCES global_source_docs (id) ON DELETE CASCADE;

CREATE INDEX generation_sessions_source_doc ON generation_sessions (source_doc_id) WHERE source_doc_id IS NOT NULL;

CREATE FUNCTION generation_sessions_source_readable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.source_doc_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM global_source_docs d JOIN brands b ON b.id = NEW.brand_id
        WHERE d.id = NEW.source_doc_id AND (d.org_id IS NULL OR d.org_id = b.org_id)
    ) THEN
        PERFORM kairo_fail('generation_sessions_source_readable',
                           'a generation round is written from a document its brand may read');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER generation_sessions_source_readable BEFORE INSERT ON generation_sessions
    FOR EACH ROW EXECUTE FUNCTION generation_sessions_source_readable();
