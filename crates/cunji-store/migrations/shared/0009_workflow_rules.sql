-- The reward workflow of SPEC §13 (issue #15). A village resolution is data: its four meetings, the
-- deciding body, members, present and votes, and the day it was made public, one row per resolve step
-- (a proposal sent back and resolved again keeps both). A step keeps its own data as JSON: a send-back's
-- reason, an approval's 核实说明 per alert, a payment's date and amounts, a public notice's period, a
-- recovery. Each award records what was paid and what was recovered. Proposals stored before this
-- version stay readable: their resolution is the text of their step. One text for both databases (the
-- ids are BIGINT: on SQLite a plain integer column, as a reference needs).
CREATE TABLE proposal_resolutions (
    step_id       BIGINT PRIMARY KEY REFERENCES proposal_steps(id),
    proposal_id   BIGINT NOT NULL REFERENCES proposals(id),
    proposed      TEXT NOT NULL,
    discussed     TEXT NOT NULL,
    reviewed      TEXT NOT NULL,
    decided       TEXT NOT NULL,
    body          TEXT NOT NULL,   -- representatives | villagers
    count_by      TEXT NOT NULL,   -- adults | households (for villagers)
    members       BIGINT NOT NULL,
    present       BIGINT NOT NULL,
    votes_for     BIGINT NOT NULL,
    votes_against BIGINT NOT NULL,
    votes_abstain BIGINT NOT NULL,
    published     TEXT NOT NULL
);
CREATE INDEX proposal_resolutions_proposal ON proposal_resolutions (proposal_id, step_id);
ALTER TABLE proposal_steps ADD COLUMN data TEXT NOT NULL DEFAULT '{}';
ALTER TABLE proposal_awards ADD COLUMN paid BIGINT;
ALTER TABLE proposal_awards ADD COLUMN recovered BIGINT NOT NULL DEFAULT 0;
