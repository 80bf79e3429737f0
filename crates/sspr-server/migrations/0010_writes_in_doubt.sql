-- A write whose answer was lost (the directory died, or the connection, after the change
-- was sent) is kept as in doubt, with the password's "last changed" time the directory
-- showed before it: a retry with the same password finds it done if that time moved, and
-- writes only if it didn't.
ALTER TABLE flow_writes ADD COLUMN in_doubt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE flow_writes ADD COLUMN changed_before INTEGER;
