-- Each village-year's distribution as its statement book gave it (SPEC §14, issue #19), in fen. One row a
-- village-year: a year's statement is imported once (a second import of the year is refused while it
-- has entries). `audit_id` is the import's audit row.
CREATE TABLE distributions (
    village               TEXT NOT NULL,
    year                  BIGINT NOT NULL,
    opening_undistributed BIGINT NOT NULL,
    transfers_in          BIGINT NOT NULL,
    reserves              BIGINT NOT NULL,
    welfare               BIGINT NOT NULL,
    outside_investors     BIGINT NOT NULL,
    members               BIGINT NOT NULL,
    other                 BIGINT NOT NULL,
    closing_undistributed BIGINT NOT NULL,
    audit_id              BIGINT NOT NULL,
    PRIMARY KEY (village, year)
);
