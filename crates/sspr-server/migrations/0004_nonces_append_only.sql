-- Nonces are checked in memory (loaded from here after a restart); the table only keeps
-- them across one. Without a unique key on the random nonce, each insert lands at the
-- end of the table and of the time index instead of on a random page: under load that
-- was one more page written to the WAL for every request.
CREATE TABLE nonces_kept (
    kiosk_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at INTEGER NOT NULL
);
INSERT INTO nonces_kept (kiosk_id, nonce, seen_at) SELECT kiosk_id, nonce, seen_at FROM nonces;
DROP TABLE nonces;
ALTER TABLE nonces_kept RENAME TO nonces;
CREATE INDEX nonces_seen ON nonces (seen_at);
