-- Province scale.
-- 1. Entries lose their foreign keys: every row's village is checked by the importer against the
--    region register (which is never deleted from) and its import row is written in the same
--    transaction; the per-row lookups were a third of an import's time.
CREATE TABLE entries_new (
    id        INTEGER PRIMARY KEY,
    village   TEXT NOT NULL,
    year      INTEGER NOT NULL,
    date      TEXT NOT NULL,
    account   TEXT NOT NULL,
    amount    BIGINT NOT NULL,
    voucher   TEXT,
    memo      TEXT NOT NULL DEFAULT '',
    project   TEXT,
    reverses  TEXT,
    source    TEXT NOT NULL,
    import_id INTEGER,
    actor     TEXT NOT NULL,
    at        BIGINT NOT NULL,
    audit_id  INTEGER
);
INSERT INTO entries_new (id, village, year, date, account, amount, voucher, memo, project, reverses, source, import_id, actor, at, audit_id)
    SELECT id, village, year, date, account, amount, voucher, memo, project, reverses, source, import_id, actor, at, audit_id FROM entries;
DROP TABLE entries;
ALTER TABLE entries_new RENAME TO entries;
CREATE INDEX entries_village_year ON entries (village, year);
CREATE UNIQUE INDEX entries_voucher ON entries (village, year, voucher) WHERE voucher IS NOT NULL;
CREATE UNIQUE INDEX entries_reverses ON entries (village, reverses) WHERE reverses IS NOT NULL;
CREATE INDEX entries_project ON entries (project) WHERE project IS NOT NULL;
CREATE INDEX entries_audit ON entries (audit_id);

-- 2. What the alerts read of each village's year (date, account, amount, voucher, reverses of every
--    entry, in date order), kept in the same transaction as the entries, so that a report of a
--    province reads one row per village instead of every entry of the year.
CREATE TABLE entry_facts (
    year    INTEGER NOT NULL,
    village TEXT NOT NULL,
    facts   TEXT NOT NULL,
    PRIMARY KEY (year, village)
);
INSERT INTO entry_facts (year, village, facts)
    SELECT year, village, json_group_array(json_array(date, account, amount, voucher, reverses))
    FROM (SELECT year, village, date, account, amount, voucher, reverses FROM entries ORDER BY year, village, date, id)
    GROUP BY year, village;
