-- The county's settings (issue #16): the 监督电话 printed on public pages and notices, and later ones.
-- One row a key; a change is in the audit log with the value before and after.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    actor TEXT NOT NULL,
    at    BIGINT NOT NULL
);
