-- Several server processes share this database: a signature nonce seen by one must be
-- refused by every other, so the database refuses it (an insert that conflicts). The
-- nonces kept until now came from `migrate` runs only (nothing served from PostgreSQL),
-- but duplicates are dropped first so the index can be made on any database.
DELETE FROM nonces a USING nonces b
    WHERE a.kiosk_id = b.kiosk_id AND a.nonce = b.nonce AND a.ctid < b.ctid;
CREATE UNIQUE INDEX nonces_once ON nonces (kiosk_id, nonce);
