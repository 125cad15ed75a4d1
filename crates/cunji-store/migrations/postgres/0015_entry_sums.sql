-- See the SQLite migration of the same number.
CREATE TABLE entry_sums (
    year    BIGINT NOT NULL,
    village TEXT NOT NULL,
    sums    BYTEA NOT NULL,
    PRIMARY KEY (year, village)
);
