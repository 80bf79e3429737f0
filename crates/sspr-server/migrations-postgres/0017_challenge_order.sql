-- The newest challenge of a method in a flow is the one a resend made last, and two can
-- share a second (a resend after a failed delivery). SQLite tells them apart by the rowid;
-- PostgreSQL has no such order, so each challenge takes the next number of a sequence.
ALTER TABLE challenges ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
CREATE INDEX challenges_method ON challenges (flow_id, method_id, seq);
