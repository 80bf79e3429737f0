-- As migrations/0012: usage & insights read the audit by event over a time range.
CREATE INDEX audit_event_at ON audit (event, at_unix);
