-- Staging codes (issue 16): IT stages many PCs with one code, valid for `uses`
-- enrollments until `expires_at`; each enrollment makes a new kiosk. The code is kept only
-- as its keyed hash, like a one-time code in `kiosks.code_hash`. A use is spent by one
-- conditional UPDATE (`used < uses`), so racing PCs never get more than `uses` kiosks.
CREATE TABLE enrollment_codes (
    id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    -- Names a PC that sends no host name: `<name_prefix>-<n>`.
    name_prefix TEXT NOT NULL,
    -- A PC's location when it sends none.
    location TEXT NOT NULL,
    uses INTEGER NOT NULL CHECK (uses BETWEEN 1 AND 10000),
    used INTEGER NOT NULL DEFAULT 0 CHECK (used BETWEEN 0 AND uses),
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- The staging code a kiosk enrolled with (NULL: a one-time code), so an admin sees which
-- code a PC used.
ALTER TABLE kiosks ADD COLUMN enrollment_code_id TEXT REFERENCES enrollment_codes (id);
