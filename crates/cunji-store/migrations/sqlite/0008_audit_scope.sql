-- The villages each audit row concerns, so that the log is shown within a user's scope: a township
-- officer sees its villages' rows, a village accountant its village's (issue #13). Rows written before
-- this version are linked where their records say which village: entries, grants, closing and
-- reopening, workflow steps. Older cadre imports stay visible to county administrators, auditors and
-- the person who imported them.
CREATE TABLE audit_villages (
    audit_id INTEGER NOT NULL,
    village  TEXT NOT NULL,
    PRIMARY KEY (audit_id, village)
);
CREATE INDEX audit_villages_village ON audit_villages (village, audit_id);
INSERT OR IGNORE INTO audit_villages (audit_id, village)
    SELECT DISTINCT w.audit_id, e.village FROM entries e JOIN entry_writes w ON w.id = e.write_id
    WHERE w.audit_id IS NOT NULL;
INSERT OR IGNORE INTO audit_villages (audit_id, village)
    SELECT audit_id, village FROM grants WHERE audit_id IS NOT NULL;
INSERT OR IGNORE INTO audit_villages (audit_id, village)
    SELECT id, subject FROM audit_log WHERE action IN ('close_year', 'reopen_year');
INSERT OR IGNORE INTO audit_villages (audit_id, village)
    SELECT id, substr(subject, 1, 12) FROM audit_log WHERE action = 'workflow_computed';
INSERT OR IGNORE INTO audit_villages (audit_id, village)
    SELECT a.id, p.village FROM audit_log a JOIN proposals p ON CAST(p.id AS TEXT) = a.subject
    WHERE a.action LIKE 'workflow_%' AND a.action <> 'workflow_computed';
