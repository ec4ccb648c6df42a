-- Soft deletion of messages and the append-only audit log of moderation.

ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted_by INTEGER REFERENCES users (id);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id   INTEGER NOT NULL REFERENCES users (id),
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    details    TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

-- Append-only is a rule of the schema, not just of the code.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Dashboard lists of current bans and mutes.
CREATE INDEX users_banned_until ON users (banned_until) WHERE banned_until IS NOT NULL;
CREATE INDEX users_muted_until ON users (muted_until) WHERE muted_until IS NOT NULL;
