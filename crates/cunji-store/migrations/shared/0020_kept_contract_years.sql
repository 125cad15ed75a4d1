-- A year's contract figures and alerts of every village (SPEC §16, issue #35), as a report of a year
-- whose report date is 31 December made them: kept so that the next report reads 50,000 rows instead
-- of judging 150,163 contracts again. They are derived, never a record: `kept_contract_stamps` says
-- what they were made from (the newest audit row then, the `[contracts]` settings, the form of the
-- rows), and a report uses them only while the newest audit row is the same; `check` makes them again
-- and compares.
CREATE TABLE kept_contract_stamps (
    year         BIGINT PRIMARY KEY,
    audit_head   BIGINT NOT NULL,
    report_date  TEXT NOT NULL,
    settings     TEXT NOT NULL,
    form         BIGINT NOT NULL
);
CREATE TABLE kept_contract_years (
    year        BIGINT NOT NULL,
    village     TEXT NOT NULL,
    -- The figures (NULL: a village with contract data but no contract at all).
    count       BIGINT,
    contracted  BIGINT,
    received    BIGINT,
    arrears     BIGINT,
    -- The contract alerts as JSON (NULL: none).
    alerts      TEXT,
    PRIMARY KEY (year, village)
);
