-- Sessions of "My security info" and of the console, in the store rather than in one
-- process's memory, so any process sharing the database serves them (issue 17). A row is
-- keyed by the keyed hash of the cookie's value (the store never holds a value a browser
-- could present); `data` is the session sealed with the server key (it holds a code's
-- hash, an authenticator secret being confirmed, a passkey check under way), so a copy of
-- the store without that key reads nothing of it.
CREATE TABLE web_sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('my', 'console')),
    data TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
