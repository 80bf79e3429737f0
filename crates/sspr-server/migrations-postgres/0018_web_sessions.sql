-- As migrations/0018: sessions of "My security info" and of the console, and approvals
-- under way, sealed.
CREATE TABLE web_sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('my', 'console', 'approval')),
    owner TEXT,
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    due_at BIGINT
);

CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
CREATE INDEX web_sessions_owner ON web_sessions (kind, owner);
CREATE INDEX web_sessions_due ON web_sessions (due_at) WHERE due_at IS NOT NULL;
-- One approval under way per flow, whichever process made it.
CREATE UNIQUE INDEX web_sessions_one_approval ON web_sessions (owner) WHERE kind = 'approval';
