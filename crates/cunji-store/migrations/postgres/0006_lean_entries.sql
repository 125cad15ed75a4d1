-- Leaner entries (see the SQLite migration of the same number for the reasons).
CREATE TABLE accounts (
    number BIGINT PRIMARY KEY,
    key    TEXT NOT NULL UNIQUE
);
INSERT INTO accounts (number, key) VALUES
    (0, 'operating_revenue'), (1, 'contracting_income'), (2, 'investment_income'),
    (3, 'subsidy_income'), (4, 'other_income'), (5, 'agri_tax_refund'), (6, 'operating_cost'),
    (7, 'taxes_and_surcharges'), (8, 'admin_expense'), (9, 'public_welfare_expense'),
    (10, 'other_expense'), (11, 'income_tax');

CREATE TABLE entry_writes (
    id        BIGSERIAL PRIMARY KEY,
    audit_id  BIGINT,
    source    TEXT NOT NULL,
    import_id BIGINT,
    actor     TEXT NOT NULL,
    at        BIGINT NOT NULL
);
INSERT INTO entry_writes (audit_id, source, import_id, actor, at)
    SELECT audit_id, source, import_id, actor, at FROM entries
    GROUP BY audit_id, source, import_id, actor, at ORDER BY MIN(id);

ALTER TABLE entries ADD COLUMN write_id BIGINT;
UPDATE entries e SET write_id = w.id FROM entry_writes w
    WHERE w.audit_id IS NOT DISTINCT FROM e.audit_id AND w.source = e.source
      AND w.import_id IS NOT DISTINCT FROM e.import_id AND w.actor = e.actor AND w.at = e.at;
ALTER TABLE entries ALTER COLUMN write_id SET NOT NULL;
-- An account outside the list becomes NULL and stops the migration (NOT NULL) rather than being lost.
ALTER TABLE entries ALTER COLUMN account TYPE SMALLINT USING (CASE account
    WHEN 'operating_revenue' THEN 0 WHEN 'contracting_income' THEN 1 WHEN 'investment_income' THEN 2
    WHEN 'subsidy_income' THEN 3 WHEN 'other_income' THEN 4 WHEN 'agri_tax_refund' THEN 5
    WHEN 'operating_cost' THEN 6 WHEN 'taxes_and_surcharges' THEN 7 WHEN 'admin_expense' THEN 8
    WHEN 'public_welfare_expense' THEN 9 WHEN 'other_expense' THEN 10 WHEN 'income_tax' THEN 11 END);
ALTER TABLE entries DROP COLUMN source, DROP COLUMN import_id, DROP COLUMN actor, DROP COLUMN at,
    DROP COLUMN audit_id;
