-- Contracts and the asset register (SPEC §16, issue #35). Money in fen, dates as TEXT YYYY-MM-DD, rates in
-- ppm, quantities in hundredths of their unit. Nothing is edited in place: a changed asset or contract
-- is a new row with the next `version` (the highest is current), and a contract's installments are
-- replaced as a whole set with the next `version` of the set. `audit_id` is the import's audit row.
CREATE TABLE assets (
    village        TEXT NOT NULL,
    asset_id       TEXT NOT NULL,
    version        BIGINT NOT NULL,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    quantity       BIGINT NOT NULL,
    unit           TEXT NOT NULL,
    original_value BIGINT,
    acquired       TEXT NOT NULL,
    grant_id       TEXT,
    status         TEXT NOT NULL,
    audit_id       BIGINT NOT NULL,
    PRIMARY KEY (village, asset_id, version)
);

CREATE TABLE contracts (
    village         TEXT NOT NULL,
    contract_id     TEXT NOT NULL,
    version         BIGINT NOT NULL,
    counterparty    TEXT NOT NULL,
    counterparty_id TEXT,
    asset_id        TEXT,
    kind            TEXT NOT NULL,
    signed          TEXT NOT NULL,
    start_date      TEXT NOT NULL,
    end_date        TEXT NOT NULL,
    resolution      TEXT,
    annual_rent     BIGINT,
    due_day         TEXT,
    step_years      BIGINT,
    step_rate       BIGINT,
    account         TEXT NOT NULL,
    audit_id        BIGINT NOT NULL,
    PRIMARY KEY (village, contract_id, version)
);

CREATE TABLE installments (
    village     TEXT NOT NULL,
    contract_id TEXT NOT NULL,
    version     BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    due_date    TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    audit_id    BIGINT NOT NULL,
    PRIMARY KEY (village, contract_id, version, seq)
);

-- An entry's `contract` column (合同编号): the receipt it makes, written with the entry in the same
-- transaction and under the same import, so that the ledger's lean rows and bulk writes stay as they are.
CREATE TABLE contract_receipts (
    village     TEXT NOT NULL,
    contract_id TEXT NOT NULL,
    entry_date  TEXT NOT NULL,
    year        BIGINT NOT NULL,
    account     TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    voucher     TEXT,
    import_id   BIGINT NOT NULL,
    audit_id    BIGINT NOT NULL
);
CREATE INDEX contract_receipts_contract ON contract_receipts (village, contract_id);
