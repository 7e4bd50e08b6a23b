-- Device tokens: only a SHA-256 of each token is stored; the token itself is shown once.
CREATE TABLE devices (
  token_id   TEXT PRIMARY KEY,          -- public part of the token, used to find the row
  name       TEXT NOT NULL,
  token_hash TEXT NOT NULL,             -- hex SHA-256 of the whole token
  admin      INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
-- One active token per device name; revoked rows stay for the audit trail.
CREATE UNIQUE INDEX devices_active_name ON devices (name) WHERE revoked_at IS NULL;
