-- Kiosks: an enrollment code makes a pending row; enrollment stores the public key.
CREATE TABLE kiosks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    location TEXT NOT NULL,
    public_key BLOB,
    code_hash TEXT UNIQUE,
    code_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    enrolled_at INTEGER,
    revoked_at INTEGER
);

-- Signature nonces seen, kept a little longer than the allowed clock skew.
CREATE TABLE nonces (
    kiosk_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (kiosk_id, nonce)
);
CREATE INDEX nonces_seen ON nonces (seen_at);

-- Methods people registered (the directory stays the source of users).
CREATE TABLE registrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, kind, value)
);
CREATE INDEX registrations_user ON registrations (user_id);

CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
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

CREATE TABLE challenges (
    id TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    method_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    code_hash TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    failures INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX challenges_flow ON challenges (flow_id);

-- Authenticator steps already used, so a code is refused a second time.
CREATE TABLE totp_used (
    user_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    used_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, step)
);

-- Throttle counters: one row an event, per key (user or kiosk) and kind.
CREATE TABLE throttle_events (
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX throttle_events_key ON throttle_events (key, kind, at);

CREATE TABLE blocks (
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    until INTEGER NOT NULL,
    PRIMARY KEY (key, kind)
);

-- Typed audit events; never a secret.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    at_unix INTEGER NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    kiosk_id TEXT,
    reference TEXT,
    login TEXT,
    user_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at_unix);
CREATE INDEX audit_ref ON audit (reference);
CREATE INDEX audit_user ON audit (user_id);

-- The built-in directory (the demo's, and small deployments without one).
CREATE TABLE dir_users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email TEXT UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    given_name TEXT NOT NULL,
    surname TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT,
    password_changed_at INTEGER
);

CREATE TABLE dir_groups (
    user_id TEXT NOT NULL REFERENCES dir_users (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL,
    PRIMARY KEY (user_id, group_name)
);
