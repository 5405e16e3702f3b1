-- Google event ids are usually base32hex, but the calendar holds events
-- that other clients created, with ids of their own choosing: an id that is
-- not ASCII must not stop the availability cache from syncing. Stored
-- byte for byte (utf8mb4_bin), so two ids differing only in case or accent
-- stay two events.
ALTER TABLE calendar_events
  MODIFY eventId VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
    NOT NULL;
