-- Regional advisories (区域预警提示) and the cities' answers, kept in the province's store.
-- The body holds the advisory with all its steps; state and level are there to filter on.
CREATE TABLE advisories (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    level TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One answer per city to each step that asked for one; the unique key refuses a second.
CREATE TABLE advisory_answers (
    id TEXT PRIMARY KEY,
    advisory_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    city TEXT NOT NULL,
    answer TEXT NOT NULL,
    body TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    answered_by TEXT NOT NULL,
    UNIQUE (advisory_id, step, city)
);
-- A delivery of an advisory step to a city's office: recorded once the city's outbox holds it,
-- so a delivery a crash interrupted is redone and one already made is not.
CREATE TABLE advisory_deliveries (
    advisory_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    city TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    PRIMARY KEY (advisory_id, step, city)
)
