-- Readings received from online monitors (HJ 212): one row per device, command, time, code and
-- field, with the code's data flag. A device that sends a packet again (it had no answer) adds
-- nothing.
CREATE TABLE monitor_readings (
    mn TEXT NOT NULL,
    cn TEXT NOT NULL,
    data_time TEXT NOT NULL,
    code TEXT NOT NULL,
    field TEXT NOT NULL,
    value DOUBLE PRECISION,
    text_value TEXT,
    flag TEXT,
    qn TEXT,
    received_at TEXT NOT NULL,
    PRIMARY KEY (mn, cn, data_time, code, field)
);
