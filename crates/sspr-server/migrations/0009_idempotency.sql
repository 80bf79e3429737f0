-- Answers to kiosk requests that carried an Idempotency-Key, so a kiosk that sends the
-- same request again after a network timeout (a new signature, the same key) gets the
-- first answer instead of a second email or a second write. `status` is NULL while the
-- first request is still being handled. Kept a day (housekeeping).
CREATE TABLE idempotency (
    kiosk_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER,
    body BLOB,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (kiosk_id, key)
) WITHOUT ROWID;
