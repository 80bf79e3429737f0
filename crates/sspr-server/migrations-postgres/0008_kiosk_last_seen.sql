-- As migrations/0008: when each kiosk last made a signed request (to the minute).
ALTER TABLE kiosks ADD COLUMN last_seen_at BIGINT;
