-- As migrations/0003: which linked directories already hold a flow's new password.
CREATE TABLE flow_writes (
    flow_id TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    directory TEXT NOT NULL,
    password_mac TEXT NOT NULL,
    written_at BIGINT NOT NULL,
    PRIMARY KEY (flow_id, directory)
);
