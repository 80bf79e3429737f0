-- As migrations/0004: nonces without a unique key (they are checked in memory; the
-- table keeps them across a restart). PostgreSQL drops the key in place.
ALTER TABLE nonces DROP CONSTRAINT nonces_pkey;
