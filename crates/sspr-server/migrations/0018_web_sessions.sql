-- State a phone or a browser carries on over several requests, in the store rather than
-- in one process's memory, so any process sharing the database serves each request
-- (issue 17): sessions of "My security info" ('my') and of the console ('console'), and
-- approvals on the phone under way ('approval'). A row is keyed by the keyed hash of the
-- cookie or token (the store never holds a value a browser could present); `data` is the
-- state sealed with the server key (a code's hash, an authenticator secret being
-- confirmed, a passkey check under way), so a copy of the store without that key reads
-- nothing of it. `owner` is whom it belongs to (an approval's flow: a new approval ends
-- the flow's earlier one); `due_at` when something must happen to it unasked (an
-- approval nobody answered in time).
CREATE TABLE web_sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('my', 'console', 'approval')),
    owner TEXT,
    data TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    due_at INTEGER
) WITHOUT ROWID;

CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
CREATE INDEX web_sessions_owner ON web_sessions (kind, owner);
CREATE INDEX web_sessions_due ON web_sessions (due_at) WHERE due_at IS NOT NULL;
-- One approval under way per flow, whichever process made it.
CREATE UNIQUE INDEX web_sessions_one_approval ON web_sessions (owner) WHERE kind = 'approval';
