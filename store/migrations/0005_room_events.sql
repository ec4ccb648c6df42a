-- The room event log, guests and sessions, slow mode, message edits.

ALTER TABLE users ADD COLUMN guest INTEGER NOT NULL DEFAULT 0 CHECK (guest IN (0, 1));
-- A session cookie carries the version it was issued at; bumping it
-- invalidates every older cookie of the user.
ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 1;

-- Seconds between one user's posts in the room; 0 is off.
ALTER TABLE rooms ADD COLUMN slow_mode INTEGER NOT NULL DEFAULT 0 CHECK (slow_mode >= 0);

ALTER TABLE messages ADD COLUMN edited_at INTEGER;

-- Every durable change in a room, in commit order. AUTOINCREMENT: an id is
-- never reused, so a client's cursor never points at a different event.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id    INTEGER NOT NULL REFERENCES rooms (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('message', 'edit', 'delete', 'room')),
    message_id INTEGER REFERENCES messages (id)
                       CHECK ((kind = 'room') = (message_id IS NULL)),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL DEFAULT '',
    data       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

-- Serves every event read: a range of one room's ids.
CREATE INDEX events_room_id ON events (room_id, id);
-- A message is created once and deleted at most once. The first index is
-- also how a duplicate append finds its original event.
CREATE UNIQUE INDEX events_message_created ON events (message_id) WHERE kind = 'message';
CREATE UNIQUE INDEX events_message_deleted ON events (message_id) WHERE kind = 'delete';

-- Backfill: older databases get cursors for what they hold. Messages first,
-- in id order, then the deletions in the order they happened.
INSERT INTO events (room_id, kind, message_id, user_id, body, created_at)
SELECT room_id, 'message', id, author_id, body, created_at
FROM messages ORDER BY id;

INSERT INTO events (room_id, kind, message_id, user_id, created_at)
SELECT room_id, 'delete', id, COALESCE(deleted_by, author_id), deleted_at
FROM messages WHERE deleted_at IS NOT NULL ORDER BY deleted_at, id;
