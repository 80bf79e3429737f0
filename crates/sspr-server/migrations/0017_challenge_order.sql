-- Nothing changes on SQLite: the rowid orders challenges made in the same second
-- (`last_challenge`). The twin in migrations-postgres/ gives PostgreSQL that order.
-- (A statement that changes nothing: a migration must hold one.)
CREATE INDEX IF NOT EXISTS challenges_flow ON challenges (flow_id);
