-- The policy as a versioned document: each save is a new version, with who saved it and
-- when. The server applies the newest over its configuration file within seconds.
CREATE TABLE policy_versions (
    version    INTEGER PRIMARY KEY,
    document   TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
