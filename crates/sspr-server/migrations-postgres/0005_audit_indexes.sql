-- As migrations/0005: the audit query reads newest first and never used these.
DROP INDEX audit_ref;
DROP INDEX audit_user;
