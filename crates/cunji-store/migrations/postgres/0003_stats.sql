-- County statistics for pay floors (SPEC §12).
CREATE TABLE stats (
    region       TEXT NOT NULL REFERENCES regions(code),
    year         BIGINT NOT NULL,
    rural_income BIGINT NOT NULL,
    PRIMARY KEY (region, year)
);
