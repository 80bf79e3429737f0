-- When each kiosk last made a signed request (to the minute): `kiosk list` shows it, so
-- the staff who stage kiosks see which are alive. Written by the batching writer with the
-- nonces, at most once a minute a kiosk.
ALTER TABLE kiosks ADD COLUMN last_seen_at INTEGER;
