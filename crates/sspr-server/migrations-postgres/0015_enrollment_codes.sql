-- As migrations/0015: staging codes, each valid for `uses` enrollments.
CREATE TABLE enrollment_codes (
    id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    name_prefix TEXT NOT NULL,
    location TEXT NOT NULL,
    uses BIGINT NOT NULL CHECK (uses BETWEEN 1 AND 10000),
    used BIGINT NOT NULL DEFAULT 0 CHECK (used BETWEEN 0 AND uses),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

ALTER TABLE kiosks ADD COLUMN enrollment_code_id TEXT REFERENCES enrollment_codes (id);
