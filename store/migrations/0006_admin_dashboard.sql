-- The admin dashboard: the audit log keeps the client address each action
-- came from, and indexes serve the dashboard's filters and sorts.

-- '' for entries written before this step, and for tools with no client.
ALTER TABLE audit_log ADD COLUMN address TEXT NOT NULL DEFAULT '';

-- The audit log filtered by actor, target or action, newest first.
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_target ON audit_log (target, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- The users table sorted by the day they joined (the name sort uses the
-- name's UNIQUE index; a user's message count uses messages_author_client_key).
CREATE INDEX users_created_at ON users (created_at, id);

-- The last-admin rule counts the administrators.
CREATE INDEX users_role ON users (role);
