-- Electricity-use monitoring (分表计电): a meter's mean power over an interval, by the time it
-- started. A feed sent again adds nothing.
CREATE TABLE power_readings (
    meter TEXT NOT NULL,
    at TEXT NOT NULL,
    kw DOUBLE PRECISION NOT NULL,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (meter, at)
);

-- The latest verdict of each line for each warning step.
CREATE TABLE compliance_checks (
    warning_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    credit_code TEXT NOT NULL,
    line TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    hours BIGINT NOT NULL,
    verdict TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (warning_id, step, credit_code, line)
);

-- A suspected non-compliance worked as a case: open → notified → explained → verified → closed.
CREATE TABLE compliance_alarms (
    id TEXT PRIMARY KEY,
    warning_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    credit_code TEXT NOT NULL,
    enterprise TEXT NOT NULL,
    line TEXT NOT NULL,
    state TEXT NOT NULL,
    evidence TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    opened_at TEXT NOT NULL,
    notified_at TEXT,
    explanation TEXT,
    explained_at TEXT,
    site_check TEXT,
    verified_at TEXT,
    verified_by TEXT,
    outcome TEXT,
    closed_at TEXT,
    closed_by TEXT
);
-- One alarm per line and warning step, however often the check runs.
CREATE UNIQUE INDEX compliance_alarms_line ON compliance_alarms (warning_id, step, credit_code, line);
CREATE INDEX compliance_alarms_enterprise ON compliance_alarms (credit_code, state);
