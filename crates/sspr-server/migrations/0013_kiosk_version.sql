-- The version a kiosk last said it runs (its User-Agent, sspr-kiosk/X.Y.Z), for the
-- console's kiosks page. Written only when it changes.
ALTER TABLE kiosks ADD COLUMN version TEXT;
