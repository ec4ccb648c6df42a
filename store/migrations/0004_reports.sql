-- Users flag messages; moderators resolve the reports.

CREATE TABLE reports (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES messages (id),
    reporter_id INTEGER NOT NULL REFERENCES users (id),
    reason      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_by INTEGER REFERENCES users (id),
    resolution  TEXT    NOT NULL DEFAULT '',
    UNIQUE (message_id, reporter_id)
);

-- The moderators' queue: open reports, oldest first.
CREATE INDEX reports_open ON reports (id) WHERE resolved_at IS NULL;
