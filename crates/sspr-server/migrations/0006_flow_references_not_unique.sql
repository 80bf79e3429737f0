-- A flow's reference is for people (the kiosk shows it, the helpdesk searches the audit
-- for it): 40 random bits, never looked up in this table. As a UNIQUE key, each new
-- flow's random reference dirtied a random page of its index, and under load that was
-- one more page written to the WAL for every flow started. SQLite can't drop a UNIQUE
-- constraint in place, so the table is made again without it. The server runs this with
-- foreign keys off; a runner that keeps them on (sqlx does) would delete the challenges
-- and writes pointing at these flows with the old table, so they are kept aside and put
-- back either way.
CREATE TEMP TABLE challenges_kept AS SELECT * FROM challenges;
CREATE TEMP TABLE flow_writes_kept AS SELECT * FROM flow_writes;
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
INSERT INTO challenges SELECT * FROM challenges_kept
WHERE id NOT IN (SELECT id FROM challenges);
INSERT INTO flow_writes SELECT * FROM flow_writes_kept k
WHERE NOT EXISTS (SELECT 1 FROM flow_writes w
                  WHERE w.flow_id = k.flow_id AND w.directory = k.directory);
DROP TABLE challenges_kept;
DROP TABLE flow_writes_kept;
