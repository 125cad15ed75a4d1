-- Seals of the receipts on contracts (SPEC §16): the rows an entries import writes beside the entries
-- (contract_receipts) make a contract's received and arrears, so a direct edit to them must be found
-- by `cunji check` as one to the contracts is. A receipt had no key to seal it by: `seq` numbers the
-- receipts of one write (with its audit_id and village, the key). Receipts stored before this
-- migration are numbered once across the table, and are sealed by one audit row written when it
-- runs. The index finds the rows one write added, to seal them.
ALTER TABLE contract_receipts ADD COLUMN seq BIGINT;
UPDATE contract_receipts r SET seq = n.n
  FROM (SELECT ctid AS row_at, ROW_NUMBER() OVER (ORDER BY ctid) AS n FROM contract_receipts) n
  WHERE r.ctid = n.row_at;
CREATE INDEX contract_receipts_audit ON contract_receipts (audit_id);
