-- As migrations/0013: the version a kiosk last said it runs.
ALTER TABLE kiosks ADD COLUMN version TEXT;
