-- As migrations/0006: a flow's reference is for people, never looked up in this table.
-- PostgreSQL drops the UNIQUE constraint in place (SQLite had to remake the table).
ALTER TABLE flows DROP CONSTRAINT flows_reference_key;
