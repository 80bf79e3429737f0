-- As migrations/0011: the policy as a versioned document.
CREATE TABLE policy_versions (
    version    BIGINT PRIMARY KEY,
    document   TEXT   NOT NULL,
    author     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
