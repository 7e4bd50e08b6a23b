-- Drift per device: why each answer was flagged and where its photo lay against the version's
-- domain profile, so /v1/stats can follow each device's flagged shares over time. Adding
-- nullable columns rewrites no row; answers recorded before this migration keep NULL in both and
-- are left out of the drift figures only (their reasons were not kept).
ALTER TABLE predictions ADD COLUMN reasons TEXT;       -- JSON array of review reasons, '[]' for none; NULL when not answered
ALTER TABLE predictions ADD COLUMN domain_score REAL;  -- the answer's domainScore; NULL for a version without a profile
