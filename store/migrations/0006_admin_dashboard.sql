-- The admin dashboard: the audit log keeps the client address each action
-- came from, and indexes serve the dashboard's filters and sorts.

-- '' for entries written before this step, and for tools with no client.
ALTER TABLE audit_log ADD COLUMN address TEXT NOT NULL DEFAULT '';

-- Why a user is muted, shown to them and on the dashboard, as ban_reason is.
ALTER TABLE users ADD COLUMN mute_reason TEXT NOT NULL DEFAULT '';

-- The audit log filtered by actor, target or action, newest first.
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_target ON audit_log (target, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- The users table sorted by the day they joined (the name sort uses the
-- name's UNIQUE index; a user's message count uses messages_author_client_key).
CREATE INDEX users_created_at ON users (created_at, id);

-- The last-admin rule counts the administrators.
CREATE INDEX users_role ON users (role);

-- Mutes in one room, beside the server-wide users.muted_until. A row per
-- room and user; lifting a mute ends it now rather than deleting the row.
CREATE TABLE room_mutes (
    room_id    INTEGER NOT NULL REFERENCES rooms (id),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    until      INTEGER NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
-- A user's mutes in every room.
CREATE INDEX room_mutes_user ON room_mutes (user_id);

-- Bans of a client address or a CIDR range. cidr is the canonical masked
-- prefix ("192.0.2.0/24", "2001:db8::/48"; one address is /32 or /128);
-- lo and hi are its first and last address as 16 bytes (IPv4 mapped into
-- ::ffff:0:0/96), so "is this address banned" is a byte comparison.
CREATE TABLE address_bans (
    id         INTEGER PRIMARY KEY,
    cidr       TEXT    NOT NULL UNIQUE,
    lo         BLOB    NOT NULL CHECK (length(lo) = 16),
    hi         BLOB    NOT NULL CHECK (length(hi) = 16),
    until      INTEGER NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    created_by INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX address_bans_until ON address_bans (until);
