-- Leaner entries: a province's year is tens of millions of rows, and every byte of a row is written
-- twice by an import (log, then database file). Two things go out of the row:
-- 1. What all rows of one write share (source, import, actor, time, audit row) is kept once, in
--    entry_writes: one row per import or per entry typed on the web.
-- 2. The account is a number: its position in `accounts` (the same numbers as the entry facts,
--    facts.rs; the list may only grow at its end).
-- Nothing is lost: every old row keeps its own values through its write row.
CREATE TABLE accounts (
    number INTEGER PRIMARY KEY,
    key    TEXT NOT NULL UNIQUE
);
INSERT INTO accounts (number, key) VALUES
    (0, 'operating_revenue'), (1, 'contracting_income'), (2, 'investment_income'),
    (3, 'subsidy_income'), (4, 'other_income'), (5, 'agri_tax_refund'), (6, 'operating_cost'),
    (7, 'taxes_and_surcharges'), (8, 'admin_expense'), (9, 'public_welfare_expense'),
    (10, 'other_expense'), (11, 'income_tax');

CREATE TABLE entry_writes (
    id        INTEGER PRIMARY KEY,
    audit_id  INTEGER,
    source    TEXT NOT NULL,
    import_id INTEGER,
    actor     TEXT NOT NULL,
    at        BIGINT NOT NULL
);
INSERT INTO entry_writes (audit_id, source, import_id, actor, at)
    SELECT audit_id, source, import_id, actor, at FROM entries
    GROUP BY audit_id, source, import_id, actor, at ORDER BY MIN(id);

CREATE TABLE entries_new (
    id       INTEGER PRIMARY KEY,
    village  TEXT NOT NULL,
    year     INTEGER NOT NULL,
    date     TEXT NOT NULL,
    account  INTEGER NOT NULL,
    amount   BIGINT NOT NULL,
    voucher  TEXT,
    memo     TEXT NOT NULL DEFAULT '',
    project  TEXT,
    reverses TEXT,
    write_id INTEGER NOT NULL
);
-- An account outside the list leaves its number NULL and stops the migration (NOT NULL) rather
-- than dropping the row.
INSERT INTO entries_new (id, village, year, date, account, amount, voucher, memo, project, reverses, write_id)
    SELECT e.id, e.village, e.year, e.date,
           (SELECT a.number FROM accounts a WHERE a.key = e.account),
           e.amount, e.voucher, e.memo, e.project, e.reverses,
           (SELECT w.id FROM entry_writes w
             WHERE w.audit_id IS e.audit_id AND w.source = e.source AND w.import_id IS e.import_id
               AND w.actor = e.actor AND w.at = e.at)
    FROM entries e;
DROP TABLE entries;
ALTER TABLE entries_new RENAME TO entries;
CREATE UNIQUE INDEX entries_voucher ON entries (village, year, voucher);
CREATE UNIQUE INDEX entries_reverses ON entries (village, reverses) WHERE reverses IS NOT NULL;
CREATE INDEX entries_project ON entries (project) WHERE project IS NOT NULL;
