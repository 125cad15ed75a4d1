-- The calculation told for villagers (SPEC §15, issue #16): the same steps and numbers as the trace,
-- in plain words, kept when a proposal is computed so that its public page tells what was decided
-- on. NULL for proposals computed before this version; their pages show the trace without its keys.
ALTER TABLE proposals ADD COLUMN story TEXT;
