-- Users, rooms and their messages. Times are Unix milliseconds (UTC).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL COLLATE NOCASE UNIQUE
                          CHECK (length(name) BETWEEN 1 AND 64),
    password_hash BLOB    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'user'
                          CHECK (role IN ('user', 'moderator', 'admin')),
    created_at    INTEGER NOT NULL,
    muted_until   INTEGER,
    banned_until  INTEGER,
    ban_reason    TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE rooms (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE
                       CHECK (length(name) BETWEEN 1 AND 64
                              AND name NOT GLOB '*[^a-z0-9_-]*'),
    title      TEXT    NOT NULL,
    topic      TEXT    NOT NULL DEFAULT '',
    creator_id INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    locked     INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    archived   INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1))
);

-- AUTOINCREMENT: ids are never reused, even if the newest row were removed,
-- so a client's "last seen id" can never point at a different message.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    INTEGER NOT NULL REFERENCES rooms (id),
    author_id  INTEGER NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL CHECK (length(body) > 0),
    created_at INTEGER NOT NULL
);

-- Serves latest-N, before-id and after-id: a range of one room's ids.
CREATE INDEX messages_room_id ON messages (room_id, id);
