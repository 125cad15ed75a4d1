-- Province scale.
-- 1. Entries lose their foreign keys: every row's village is checked by the importer against the
--    region register (which is never deleted from) and its import row is written in the same
--    transaction; the per-row lookups were a third of an import's time. Two of their five indexes
--    go too: (village, year, voucher) now indexes every row, so it serves the lookups by village and
--    year as well (NULL vouchers stay distinct), and nothing looks entries up by audit row.
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
CREATE UNIQUE INDEX entries_voucher ON entries (village, year, voucher);
CREATE UNIQUE INDEX entries_reverses ON entries (village, reverses) WHERE reverses IS NOT NULL;
CREATE INDEX entries_project ON entries (project) WHERE project IS NOT NULL;

-- 2. What the alerts read of each village's year ([month*100+day, account number, amount, voucher,
--    reverses] of every entry, in date order; account numbers are positions in facts.rs's list), kept in the same transaction as the entries, so that a report of a
--    province reads one row per village instead of every entry of the year.
CREATE TABLE entry_facts (
    year    INTEGER NOT NULL,
    village TEXT NOT NULL,
    facts   TEXT NOT NULL,
    PRIMARY KEY (year, village)
);
INSERT INTO entry_facts (year, village, facts)
    SELECT year, village, json_group_array(json_array(
        CAST(substr(date, 6, 2) || substr(date, 9, 2) AS INTEGER),
        CASE account WHEN 'operating_revenue' THEN 0 WHEN 'contracting_income' THEN 1 WHEN 'investment_income' THEN 2 WHEN 'subsidy_income' THEN 3 WHEN 'other_income' THEN 4 WHEN 'agri_tax_refund' THEN 5 WHEN 'operating_cost' THEN 6 WHEN 'taxes_and_surcharges' THEN 7 WHEN 'admin_expense' THEN 8 WHEN 'public_welfare_expense' THEN 9 WHEN 'other_expense' THEN 10 WHEN 'income_tax' THEN 11 END,
        amount, voucher, reverses))
    FROM (SELECT year, village, date, account, amount, voucher, reverses FROM entries ORDER BY year, village, date, id)
    GROUP BY year, village;
