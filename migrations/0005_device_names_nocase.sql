-- Device names are one name whatever their case: "lab-1" and "LAB-1" are the same device. Where
-- a name is active more than once up to case, the earliest token keeps it and the later ones are
-- revoked (their rows stay, for the audit trail and the statistics attributed to them); an admin
-- issues those devices new tokens under names of their own.
UPDATE devices SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE revoked_at IS NULL AND EXISTS (
  SELECT 1 FROM devices AS earlier
  WHERE earlier.revoked_at IS NULL
    AND earlier.name = devices.name COLLATE NOCASE
    AND (earlier.created_at < devices.created_at OR (earlier.created_at = devices.created_at AND earlier.rowid < devices.rowid))
);
CREATE UNIQUE INDEX devices_active_name_nocase ON devices (name COLLATE NOCASE) WHERE revoked_at IS NULL;
-- The index above is stricter, and serves the look-ups by name.
DROP INDEX devices_active_name;
