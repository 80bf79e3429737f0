-- As migrations/0009: answers to kiosk requests that carried an Idempotency-Key.
CREATE TABLE idempotency (
    kiosk_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT,
    body BYTEA,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (kiosk_id, key)
);
