-- Province scale (see the SQLite migration of the same number for the reasons and the facts' format).
ALTER TABLE entries DROP CONSTRAINT IF EXISTS entries_village_fkey;
ALTER TABLE entries DROP CONSTRAINT IF EXISTS entries_import_id_fkey;
DROP INDEX IF EXISTS entries_village_year;
DROP INDEX IF EXISTS entries_audit;
DROP INDEX IF EXISTS entries_voucher;
CREATE UNIQUE INDEX entries_voucher ON entries (village, year, voucher);

CREATE TABLE entry_facts (
    year    BIGINT NOT NULL,
    village TEXT NOT NULL,
    facts   TEXT NOT NULL,
    PRIMARY KEY (year, village)
);
INSERT INTO entry_facts (year, village, facts)
    SELECT year, village, json_agg(json_build_array(
        CAST(substr(date, 6, 2) || substr(date, 9, 2) AS INTEGER),
        CASE account WHEN 'operating_revenue' THEN 0 WHEN 'contracting_income' THEN 1 WHEN 'investment_income' THEN 2 WHEN 'subsidy_income' THEN 3 WHEN 'other_income' THEN 4 WHEN 'agri_tax_refund' THEN 5 WHEN 'operating_cost' THEN 6 WHEN 'taxes_and_surcharges' THEN 7 WHEN 'admin_expense' THEN 8 WHEN 'public_welfare_expense' THEN 9 WHEN 'other_expense' THEN 10 WHEN 'income_tax' THEN 11 END,
        amount, voucher, reverses) ORDER BY date, id)::text
    FROM entries GROUP BY year, village;
