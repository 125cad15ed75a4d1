-- What the alerts read of each village-year's entries, summed (`entry_sums.rs`): kept in the same
-- transaction as its entry facts, so that a province's report reads the facts only of the villages
-- whose sums cannot settle an alert. Filled from the facts when this migration runs.
CREATE TABLE entry_sums (
    year    INTEGER NOT NULL,
    village TEXT NOT NULL,
    sums    BLOB NOT NULL,
    PRIMARY KEY (year, village)
);
