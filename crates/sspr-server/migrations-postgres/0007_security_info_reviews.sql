-- As migrations/0007: when each person last looked over their security info.
CREATE TABLE reviews (
    user_id TEXT PRIMARY KEY,
    reviewed_at BIGINT NOT NULL
);
