-- Province scale (see the SQLite migration of the same number for the reasons).
ALTER TABLE entries DROP CONSTRAINT IF EXISTS entries_village_fkey;
ALTER TABLE entries DROP CONSTRAINT IF EXISTS entries_import_id_fkey;

CREATE TABLE entry_facts (
    year    BIGINT NOT NULL,
    village TEXT NOT NULL,
    facts   TEXT NOT NULL,
    PRIMARY KEY (year, village)
);
INSERT INTO entry_facts (year, village, facts)
    SELECT year, village, json_agg(json_build_array(date, account, amount, voucher, reverses) ORDER BY date, id)::text
    FROM entries GROUP BY year, village;
