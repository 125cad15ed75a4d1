-- Seals of the contract tables (issue #32 item 9, SPEC §16): assets, contracts and installments, every
-- version, are sealed in audit_seals (migration 16) by the import or the web change that wrote them, so
-- `cunji check` finds a rent, a date or an installment changed, added or deleted behind the log's back.
-- The seal layout is unchanged; rows stored before this migration are sealed by one audit row written
-- when it runs. This index finds the rows one write added, to seal them.
CREATE INDEX contracts_audit ON contracts (audit_id);
CREATE INDEX assets_audit ON assets (audit_id);
CREATE INDEX installments_audit ON installments (audit_id);
