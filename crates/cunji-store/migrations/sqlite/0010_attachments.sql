-- The documents of a reward's resolution (SPEC §13, issue #15): scanned minutes, the resolution, photos
-- of the public notice. Kept in the database with their SHA-256, which their audit row records, so
-- that `cunji audit verify` finds a document changed behind the log's back.
CREATE TABLE proposal_attachments (
    id           INTEGER PRIMARY KEY,
    proposal_id  INTEGER NOT NULL REFERENCES proposals(id),
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,   -- application/pdf | image/jpeg | image/png
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    actor        TEXT NOT NULL,
    at           BIGINT NOT NULL,
    audit_id     BIGINT NOT NULL
);
CREATE INDEX proposal_attachments_proposal ON proposal_attachments (proposal_id, id);
