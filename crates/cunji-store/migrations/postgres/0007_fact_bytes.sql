-- Entry facts are kept in a compact binary form (facts.rs, fact_rows.rs); the JSON arrays of
-- earlier versions stay readable as their UTF-8 bytes.
ALTER TABLE entry_facts ALTER COLUMN facts TYPE BYTEA USING convert_to(facts, 'UTF8');
