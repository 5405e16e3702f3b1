-- Google push notifications (DESIGN.md "Google push notifications"),
-- owned by src/school/push.c.
--
-- push_channels: each channel events.watch opened on the school's calendar.
-- A row is written before the call ("opening": Google's sync message may
-- arrive before its answer), becomes "live" with Google's resourceId and
-- expiration, and goes once channels.stop has been said for it (or its
-- expiration passed). Only the SHA-256 of the channel's random token is
-- kept; the token itself went to Google and comes back in each
-- notification's X-Goog-Channel-Token.
CREATE TABLE push_channels (
  id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  calendarId VARCHAR(255) CHARACTER SET ascii NOT NULL,
  resourceId VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
  tokenHash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  address VARCHAR(1024) NOT NULL,
  state VARCHAR(16) NOT NULL,
  createdAt DATETIME NOT NULL,
  expiresAt DATETIME(3) NULL,
  lastMessageAt DATETIME(6) NULL,
  lastMessageNumber BIGINT UNSIGNED NULL,
  CONSTRAINT push_channels_state CHECK (state IN ('opening', 'live',
                                                  'stopping')),
  KEY push_channels_calendar (calendarId, state)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per calendar: the lease a run of reconcile takes before it opens,
-- renews or stops a channel, so two runs never open two.
CREATE TABLE push_lease (
  calendarId VARCHAR(255) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  heldUntil DATETIME NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The availability cache learns of a notification (src/school/avail.c):
-- notifiedAt is the last notification's time, refreshStartedAt when the
-- last refresh took its lease. notifiedAt >= refreshStartedAt means Google
-- changed something the cache has not read yet.
ALTER TABLE calendar_sync
  ADD COLUMN notifiedAt DATETIME(6) NULL,
  ADD COLUMN refreshStartedAt DATETIME(6) NULL;
