-- Which linked directories already hold a flow's new password, so a retry after a
-- partial writeback finishes the rest. `password_mac` is a keyed hash (server key, flow
-- id) of the password written, to tell a retry with the same password from a new one.
CREATE TABLE flow_writes (
    flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    directory TEXT NOT NULL,
    password_mac TEXT NOT NULL,
    written_at INTEGER NOT NULL,
    PRIMARY KEY (flow_id, directory)
);
