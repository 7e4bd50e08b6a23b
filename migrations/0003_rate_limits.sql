-- Fixed-window request counters, one row per (bucket, window). A bucket is
-- "device:<name>" or "admin:<name>"; rows of past windows are deleted as new ones start.
CREATE TABLE rate_limits (
  bucket       TEXT NOT NULL,
  window_start INTEGER NOT NULL,        -- Unix seconds, a multiple of the window length
  count        INTEGER NOT NULL,
  PRIMARY KEY (bucket, window_start)
) WITHOUT ROWID;
