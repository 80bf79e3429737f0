-- What the server pushes to a kiosk about its flow (the approval's number, its result),
-- in order: the event stream sends each row's id, so a kiosk whose stream reconnects, to
-- this process or another, resumes after the last one it had (`Last-Event-ID`). A NULL
-- event clears what a new approval's kiosk would otherwise be shown first. On PostgreSQL
-- each row is announced with NOTIFY (its flow and id, never its data) to every process.
CREATE TABLE flow_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    flow_id TEXT NOT NULL,
    event TEXT,
    created_at INTEGER NOT NULL
);

CREATE INDEX flow_events_flow ON flow_events (flow_id, id);
CREATE INDEX flow_events_age ON flow_events (created_at);
