-- Job slots get a fencing token: each claim of a slot raises its epoch, and only the holder of
-- the current epoch may renew the lease or record the outcome.
ALTER TABLE job_runs ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
