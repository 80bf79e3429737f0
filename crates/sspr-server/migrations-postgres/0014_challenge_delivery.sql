-- As migrations/0014: where sending a texted or called code stands.
ALTER TABLE challenges ADD COLUMN delivery TEXT;
