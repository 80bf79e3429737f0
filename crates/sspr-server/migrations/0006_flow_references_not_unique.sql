-- A flow's reference is for people (the kiosk shows it, the helpdesk searches the audit
-- for it): 40 random bits, never looked up in this table. As a UNIQUE key, each new
-- flow's random reference dirtied a random page of its index, and under load that was
-- one more page written to the WAL for every flow started. SQLite can't drop a UNIQUE
-- constraint in place, so the table is made again without it (the server runs this
-- with foreign keys off, so the challenges pointing at these flows stay).
CREATE TABLE flows_new (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    login TEXT NOT NULL,
    user_id TEXT,
    throttle_key TEXT NOT NULL,
    intent TEXT NOT NULL,
    locale TEXT NOT NULL,
    state TEXT NOT NULL,
    required INTEGER NOT NULL,
    methods TEXT NOT NULL,
    done TEXT NOT NULL,
    is_admin INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    finished_at INTEGER
);
INSERT INTO flows_new (id, reference, kiosk_id, login, user_id, throttle_key, intent, locale,
                       state, required, methods, done, is_admin, created_at, expires_at,
                       finished_at)
SELECT id, reference, kiosk_id, login, user_id, throttle_key, intent, locale, state, required,
       methods, done, is_admin, created_at, expires_at, finished_at
FROM flows;
DROP TABLE flows;
ALTER TABLE flows_new RENAME TO flows;
