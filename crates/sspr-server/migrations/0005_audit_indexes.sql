-- The audit query (`sspr-server audit`, filters that may each be absent, newest first)
-- reads the table from its newest row back and never used these two indexes (EXPLAIN
-- QUERY PLAN: SCAN audit); each kept a random page of its own dirty for every row written,
-- several rows a request. audit_at stays: its inserts land on its last page.
DROP INDEX audit_ref;
DROP INDEX audit_user;
