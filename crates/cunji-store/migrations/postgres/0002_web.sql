-- Users, sessions, stored policies and the reward workflow.

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,          -- county_admin | township_officer | village_accountant | auditor
    scope         TEXT,                   -- township code (officer), village code (accountant)
    created_at    BIGINT NOT NULL
);

-- Only a hash of the session token is stored: a copy of the database does not hand out sessions.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE policies (
    id BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL,
    source     TEXT NOT NULL,             -- the TOML text, as written
    active     BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    at         BIGINT NOT NULL
);

-- One reward proposal per village and year; its steps are appended, never rewritten.
CREATE TABLE proposals (
    id BIGSERIAL PRIMARY KEY,
    village      TEXT NOT NULL REFERENCES regions(code),
    year         BIGINT NOT NULL,
    policy_id    BIGINT NOT NULL REFERENCES policies(id),
    status       TEXT NOT NULL,           -- computed | resolved | township_approved | county_filed | paid | published
    pool         BIGINT NOT NULL,
    figures      TEXT NOT NULL,           -- fingerprint of the books the computation read
    trace        TEXT NOT NULL,           -- the computation's explanation, one line per step
    computed_at  BIGINT NOT NULL,
    published_at BIGINT,
    UNIQUE (village, year)
);

CREATE TABLE proposal_awards (
    proposal_id BIGINT NOT NULL REFERENCES proposals(id),
    person      TEXT NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    computed    BIGINT NOT NULL,
    decided     BIGINT,
    PRIMARY KEY (proposal_id, person)
);

CREATE TABLE proposal_steps (
    id BIGSERIAL PRIMARY KEY,
    proposal_id BIGINT NOT NULL REFERENCES proposals(id),
    step        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX proposal_steps_proposal ON proposal_steps (proposal_id);
