-- As migrations/0010: a write whose answer was lost is kept as in doubt.
ALTER TABLE flow_writes ADD COLUMN in_doubt BIGINT NOT NULL DEFAULT 0;
ALTER TABLE flow_writes ADD COLUMN changed_before BIGINT;
