-- Seals (issue #32): the content of every row that holds a decision or a permission (users, policies,
-- settings, closed years, cadres, county statistics, reward proposals with their awards, steps and
-- resolutions) as the audited write that last changed it left it. Each audit row holds the hash of
-- its seals (seal_hash, part of its chain hash), so `cunji check` finds a row changed, added or
-- deleted behind the log's back and names what changed. content is NULL where the write deleted the
-- row. Rows stored before this migration are sealed by one audit row written when it runs.
CREATE TABLE audit_seals (
    id       INTEGER PRIMARY KEY,
    audit_id BIGINT NOT NULL,
    tbl      TEXT NOT NULL,
    row_key  TEXT NOT NULL,
    scope    TEXT NOT NULL,
    content  TEXT
);
CREATE INDEX audit_seals_scope ON audit_seals (tbl, scope, id);
CREATE INDEX audit_seals_audit ON audit_seals (audit_id, id);
ALTER TABLE audit_log ADD COLUMN seal_hash TEXT NOT NULL DEFAULT '';
