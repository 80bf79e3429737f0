-- As migrations/0018: sessions of "My security info" and of the console, sealed.
CREATE TABLE web_sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('my', 'console')),
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
