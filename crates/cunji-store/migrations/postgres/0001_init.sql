-- cunji schema, PostgreSQL. Money is BIGINT fen, booleans BIGINT 0/1, dates TEXT YYYY-MM-DD,
-- times BIGINT epoch seconds (the sqlx Any driver reads nothing else portably).

CREATE TABLE regions (
    code      TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    level     TEXT NOT NULL,
    merged_in BIGINT
);

-- One row per merged village: a village is a predecessor in one merge only.
CREATE TABLE region_predecessors (
    predecessor TEXT PRIMARY KEY,
    successor   TEXT NOT NULL REFERENCES regions(code)
);

CREATE TABLE imports (
    id BIGSERIAL PRIMARY KEY,
    kind      TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    rows      BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    at        BIGINT NOT NULL,
    UNIQUE (kind, sha256)
);

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE entries (
    id BIGSERIAL PRIMARY KEY,
    village   TEXT NOT NULL REFERENCES regions(code),
    year      BIGINT NOT NULL,
    date      TEXT NOT NULL,
    account   TEXT NOT NULL,
    amount    BIGINT NOT NULL,
    voucher   TEXT,
    memo      TEXT NOT NULL DEFAULT '',
    project   TEXT,
    reverses  TEXT,
    source    TEXT NOT NULL,
    import_id BIGINT REFERENCES imports(id),
    actor     TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX entries_village_year ON entries (village, year);
CREATE UNIQUE INDEX entries_voucher ON entries (village, year, voucher) WHERE voucher IS NOT NULL;
CREATE UNIQUE INDEX entries_reverses ON entries (village, reverses) WHERE reverses IS NOT NULL;
CREATE INDEX entries_project ON entries (project) WHERE project IS NOT NULL;

-- Kept in the same transaction as every entry written, so reports never scan entries.
CREATE TABLE totals (
    village TEXT NOT NULL,
    year    BIGINT NOT NULL,
    account TEXT NOT NULL,
    amount  BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (village, year, account)
);

-- Income booked on each subsidy project per year (actual returns, SPEC §7).
CREATE TABLE project_totals (
    project TEXT NOT NULL,
    year    BIGINT NOT NULL,
    amount  BIGINT NOT NULL,
    PRIMARY KEY (project, year)
);

CREATE TABLE closed_years (
    village   TEXT NOT NULL,
    year      BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (village, year)
);

CREATE TABLE cadres (
    village        TEXT NOT NULL REFERENCES regions(code),
    year           BIGINT NOT NULL,
    person         TEXT NOT NULL,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    months_in_post BIGINT NOT NULL,
    sanctioned     BIGINT NOT NULL,
    base_pay       BIGINT,
    appraisal      TEXT,
    PRIMARY KEY (village, year, person)
);

CREATE TABLE grants (
    grant_id      TEXT PRIMARY KEY,
    village       TEXT NOT NULL REFERENCES regions(code),
    year          BIGINT NOT NULL,
    level         TEXT NOT NULL,
    program       TEXT NOT NULL,
    amount        BIGINT NOT NULL,
    project       TEXT NOT NULL UNIQUE,
    expected_rate BIGINT
);

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
);
