-- The measure values a proposal was computed from (SPEC §15): with its pool and each person's decided and
-- paid amounts they make the fingerprint printed on the public notice, which a public page recomputes
-- from the current books. Proposals computed before this version have none (their fingerprint says so).
ALTER TABLE proposals ADD COLUMN measure BIGINT;
ALTER TABLE proposals ADD COLUMN base BIGINT;
