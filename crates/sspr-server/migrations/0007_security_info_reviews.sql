-- When each person last looked over their security info and kept it ("My security
-- info"): the policy asks again `policy.reconfirm_days` later. Adding a method counts as a
-- look too (the registration's created_at); removing one, or confirming, writes here.
CREATE TABLE reviews (
    user_id TEXT PRIMARY KEY,
    reviewed_at INTEGER NOT NULL
) WITHOUT ROWID;
