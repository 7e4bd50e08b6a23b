-- Routing between model versions, per-version statistics and feedback.

-- Versions a device may pin with X-Model-Version (JSON array of names; ["*"] = any). Admins may pin any.
ALTER TABLE devices ADD COLUMN pins TEXT NOT NULL DEFAULT '[]';

-- Every routing change, never updated or deleted: the newest row is the one in force.
CREATE TABLE routing (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  split       TEXT NOT NULL,            -- JSON {"v1": 90, "v2": 10}, integer percentages summing to 100
  shadow      TEXT,                     -- version run after the response, never returned
  sticky      INTEGER NOT NULL,         -- 1: version by hash(salt, device); 0: drawn per request
  salt        TEXT NOT NULL,
  action      TEXT NOT NULL,            -- 'set' or 'rollback'
  -- The row in force when this one was written (0: none). UNIQUE turns two concurrent changes made
  -- from the same state into one success and one conflict, as a conditional put would.
  based_on    INTEGER NOT NULL UNIQUE,
  previous_id INTEGER,                  -- the configuration a rollback from this one restores
  changed_by  TEXT NOT NULL,            -- token (device) name, or the local CLI user
  changed_at  TEXT NOT NULL
);

-- One row per image a device sent for classification, answered or not.
CREATE TABLE predictions (
  id              TEXT PRIMARY KEY,     -- the `id` returned to the device; feedback refers to it
  request_id      TEXT NOT NULL,        -- groups the parts of one batch
  version         TEXT NOT NULL,        -- the version that answered (or was to answer, on an error)
  assigned        TEXT NOT NULL,        -- the version routing chose; differs from `version` on a fallback
  route           TEXT NOT NULL,        -- 'split', 'pin' or 'default'
  device          TEXT NOT NULL,
  status          INTEGER NOT NULL,     -- 200, or the error status this image got
  error_code      TEXT,
  top_label       TEXT,
  top_probability REAL,
  probabilities   TEXT,                 -- JSON {label: probability} in the model's class order
  review          INTEGER,
  latency_ms      REAL NOT NULL,        -- Worker time for this image
  created_at      TEXT NOT NULL         -- ISO 8601, UTC
);
CREATE INDEX predictions_created ON predictions (created_at);
CREATE INDEX predictions_assigned ON predictions (assigned, created_at);

-- The shadow version's answer to a prediction, recorded after the response was sent.
CREATE TABLE shadow_results (
  prediction_id   TEXT PRIMARY KEY,
  version         TEXT NOT NULL,
  status          INTEGER NOT NULL,
  error_code      TEXT,
  top_label       TEXT,
  top_probability REAL,
  probabilities   TEXT,
  agreed          INTEGER,              -- 1 when its top label equals the answering version's
  latency_ms      REAL NOT NULL,
  created_at      TEXT NOT NULL
);
CREATE INDEX shadow_results_created ON shadow_results (created_at);

-- The true class of a prediction, confirmed by the device or the lab; at most one per prediction.
CREATE TABLE feedback (
  prediction_id TEXT PRIMARY KEY,
  label         TEXT NOT NULL,
  device        TEXT NOT NULL,
  created_at    TEXT NOT NULL
);
