-- Each claim of an outbox message bumps its epoch. A dispatcher records an outcome or renews its
-- lease only with the (owner, epoch) of the claim it holds, so one whose lease expired and was
-- claimed again cannot write over its successor.
ALTER TABLE outbox ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
