-- A tamper-evident audit log: each row holds the hash of the row before it and of the records it wrote;
-- entries and grants point at the audit row that wrote them.
ALTER TABLE audit_log ADD COLUMN record_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
ALTER TABLE entries ADD COLUMN audit_id BIGINT;
ALTER TABLE grants ADD COLUMN audit_id BIGINT;
CREATE INDEX entries_audit ON entries (audit_id);

-- The chain's head: updating it first in a writing transaction takes the write lock, so two writers
-- never chain onto the same row.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    hash TEXT NOT NULL,
    n    BIGINT NOT NULL
);
INSERT INTO audit_head (id, hash, n) VALUES (1, '', 0);
