-- An audit entry about a row of an audited table (warnings, notices) carries the hash of that
-- row as the write left it, inside the chain, so `audit verify` can recompute it from the row
-- as it is now and name any row edited outside hazewarn.
ALTER TABLE audit_log ADD COLUMN row_table TEXT;
ALTER TABLE audit_log ADD COLUMN row_hash TEXT;
