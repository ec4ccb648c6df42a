-- A client-chosen key per message, unique per author, so a retried send is
-- stored once. NULL keys (no idempotency asked for) never conflict.

ALTER TABLE messages ADD COLUMN client_key TEXT;

CREATE UNIQUE INDEX messages_author_client_key ON messages (author_id, client_key);
