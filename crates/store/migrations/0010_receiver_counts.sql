-- What the HJ 212 receiver saw from each sender (a listed device's MN, or "unlisted <address>"),
-- kept across restarts: packets taken, values stored, bad frames, refusals. Each commit of the
-- receiver adds what it counted since the last.
CREATE TABLE monitor_receiver_counts (
    who TEXT PRIMARY KEY,
    packets BIGINT NOT NULL DEFAULT 0,
    stored BIGINT NOT NULL DEFAULT 0,
    bad_frames BIGINT NOT NULL DEFAULT 0,
    refused BIGINT NOT NULL DEFAULT 0
);
