-- A model version's identity outside the bucket: the sha256 of its manifest.json as published.
-- A version is served only while the manifest in R2 still has this digest, so a manifest changed
-- in the bucket (classes, preprocessing, inference policy) is refused instead of served, and a
-- version put into the bucket without `npm run publish` is never served at all.
CREATE TABLE model_versions (
  version         TEXT PRIMARY KEY,
  manifest_sha256 TEXT NOT NULL,        -- hex SHA-256 of manifest.json's bytes
  published_at    TEXT NOT NULL         -- ISO 8601, UTC; the default version is the newest
);
