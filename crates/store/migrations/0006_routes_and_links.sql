-- A notice's route: the channels that reach a person (SMS, e-mail, group robot), tried in order.
-- Rank 0 is due at once; a later rank waits as 'standby' until the one before it is a dead
-- letter, and is then due in the same transaction that records that dead letter.
ALTER TABLE outbox ADD COLUMN route_rank BIGINT;
CREATE INDEX outbox_route ON outbox (idempotency_key, status);
-- Acknowledgement links: a short token per notice and channel, written with the notice's
-- outbox rows. The token is an HMAC of the rest of the row, so a row cannot be forged without
-- the city's secret; it is spent by its first use.
CREATE TABLE ack_links (
    token TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
