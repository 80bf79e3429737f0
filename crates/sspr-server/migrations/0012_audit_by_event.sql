-- Usage & insights read the audit by event over a time range (flows started, methods
-- verified, resets written, failures): one range of this index per event, never the
-- whole table. Its inserts land at the end of each event's range (at_unix grows), a few
-- dozen pages that stay in the cache.
CREATE INDEX audit_event_at ON audit (event, at_unix);
