-- Nothing changes on SQLite: one process serves a SQLite store, and it checks nonces in
-- memory (migrations/0004). The twin in migrations-postgres/ makes each (kiosk, nonce)
-- unique there, where several processes share the database and only it can refuse a
-- nonce another process saw.
-- (A statement that changes nothing: a migration must hold one.)
CREATE INDEX IF NOT EXISTS nonces_seen ON nonces (seen_at);
