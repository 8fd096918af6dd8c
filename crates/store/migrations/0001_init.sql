-- hazewarn store, schema 1. Portable SQL: the same text runs on SQLite and PostgreSQL.
-- Times are TEXT in UTC, `YYYY-MM-DDTHH:MM:SS.mmmZ`, so they sort as strings on both.
-- JSON documents are TEXT.

-- Serialises writers: every write transaction first bumps this row (SQLite takes its write lock
-- up front instead of failing to upgrade; PostgreSQL queues on the row lock). It is also the head
-- of the audit chain.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only; each entry carries the hash of the previous one.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);

CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    credit_code TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- Ingested observation batches: where the canonical Parquet is, and what QC said.
CREATE TABLE observation_batches (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    location TEXT NOT NULL,
    rows_count BIGINT NOT NULL,
    first_time TEXT,
    last_time TEXT,
    qc_summary TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);

CREATE TABLE forecast_runs (
    id TEXT PRIMARY KEY,
    issue_time TEXT NOT NULL,
    model TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- which inputs were present and which missing
    inputs TEXT NOT NULL,
    hourly TEXT NOT NULL,
    daily TEXT NOT NULL,
    -- issued | approved | adjusted
    status TEXT NOT NULL
);
CREATE INDEX forecast_runs_issue ON forecast_runs (issue_time);

CREATE TABLE forecast_reviews (
    run_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    action TEXT NOT NULL,
    by_user TEXT NOT NULL,
    at TEXT NOT NULL,
    note TEXT NOT NULL,
    adjusted_daily TEXT,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE forecast_scores (
    run_id TEXT NOT NULL,
    lead_hours BIGINT NOT NULL,
    valid_time TEXT NOT NULL,
    observed DOUBLE PRECISION NOT NULL,
    p10 DOUBLE PRECISION NOT NULL,
    p50 DOUBLE PRECISION NOT NULL,
    p90 DOUBLE PRECISION NOT NULL,
    scored_at TEXT NOT NULL,
    PRIMARY KEY (run_id, lead_hours)
);

-- The grading of a forecast run: what the office is asked to decide.
CREATE TABLE recommendations (
    run_id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    level TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE warnings (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    level TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE warning_transitions (
    warning_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    at TEXT NOT NULL,
    by_user TEXT NOT NULL,
    reason TEXT NOT NULL,
    forecast_id TEXT NOT NULL,
    PRIMARY KEY (warning_id, step)
);

CREATE TABLE reduction_lists (
    version BIGINT PRIMARY KEY,
    imported_at TEXT NOT NULL,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    enterprises BIGINT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE plans (
    warning_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    list_version BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (warning_id, step)
);

-- One notice per enterprise and warning step, never two.
CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    warning_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    credit_code TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ack_deadline TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    reminded_at TEXT,
    escalated_at TEXT,
    UNIQUE (warning_id, step, credit_code)
);
CREATE INDEX notices_enterprise ON notices (credit_code);

-- The transactional outbox: one row per message and channel, written with its cause.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    -- notice | alert | office
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- pending | sent | dead
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE delivery_attempts (
    outbox_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);

-- Job slots: the primary key is the lease that stops two instances running one slot.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    slot TEXT NOT NULL,
    status TEXT NOT NULL,
    owner TEXT NOT NULL,
    started_at TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    finished_at TEXT,
    detail TEXT NOT NULL,
    PRIMARY KEY (job, slot)
);
