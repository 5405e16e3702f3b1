-- Why the last refresh of a calendar failed, so every process answers a
-- reader with that reason (e.g. calendar_not_connected) until the next try.
ALTER TABLE calendar_sync
  ADD COLUMN lastErrorKind VARCHAR(32) CHARACTER SET ascii NULL AFTER lastError;
