-- The tables of the design. InnoDB, utf8mb4, every time in UTC (the
-- programs set time_zone = '+00:00' on each connection). Statements end
-- with ';' at the end of a line: the migration runner splits on that.

-- The admin (and, later, anyone who signs in). Google tokens are stored
-- sealed with AES-256-GCM under TOKEN_ENCRYPTION_KEY: a dump holds no
-- usable token.
CREATE TABLE users (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(254) NOT NULL,
  googleSub VARCHAR(255) NULL,
  role VARCHAR(16) NOT NULL DEFAULT 'student',
  googleRefreshToken VARBINARY(2048) NULL,
  googleAccessToken VARBINARY(4096) NULL,
  googleAccessExpiresAt DATETIME NULL,
  googleScopes VARCHAR(1024) NULL,
  googleConnectedAt DATETIME NULL,
  googleTokenStatus VARCHAR(16) NOT NULL DEFAULT 'none',
  googleLastRefreshAt DATETIME NULL,
  googleLastRefreshError VARCHAR(255) NULL,
  googleRefreshingUntil DATETIME NULL,
  createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY users_email (email),
  UNIQUE KEY users_google_sub (googleSub),
  CONSTRAINT users_role CHECK (role IN ('admin', 'student')),
  CONSTRAINT users_token_status CHECK (googleTokenStatus IN ('none', 'ok', 'broken'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- OAuth consent round trips in flight: single use, ten minutes. Only a
-- hash of the state and of the browser cookie is kept; the PKCE verifier
-- is sealed.
CREATE TABLE oauth_states (
  stateHash CHAR(64) NOT NULL PRIMARY KEY,
  browserHash CHAR(64) NOT NULL,
  codeVerifier VARBINARY(512) NOT NULL,
  createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  expiresAt DATETIME NOT NULL,
  usedAt DATETIME NULL,
  KEY oauth_states_expires (expiresAt)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- A class: held, paid for, scheduled on Google, cancelled. The Google
-- event id is derived from id.
CREATE TABLE bookings (
  id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  status VARCHAR(16) NOT NULL,
  startAt DATETIME NOT NULL,
  endAt DATETIME NOT NULL,
  timeZone VARCHAR(64) NOT NULL,
  classType VARCHAR(64) NOT NULL DEFAULT 'individual',
  participants SMALLINT UNSIGNED NOT NULL DEFAULT 1,
  studentEmail VARCHAR(254) NOT NULL,
  studentName VARCHAR(200) NULL,
  notes TEXT NULL,
  eventId VARCHAR(64) CHARACTER SET ascii NULL,
  meetLink VARCHAR(255) NULL,
  htmlLink VARCHAR(1024) NULL,
  paymentId VARCHAR(64) CHARACTER SET ascii NULL,
  idempotencyKey VARCHAR(255) NULL,
  idempotencyHash CHAR(64) CHARACTER SET ascii NULL,
  holdExpiresAt DATETIME NULL,
  cancelPending TINYINT(1) NOT NULL DEFAULT 0,
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  nextAttemptAt DATETIME NULL,
  lastError VARCHAR(500) NULL,
  createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY bookings_payment (paymentId),
  UNIQUE KEY bookings_idempotency (idempotencyKey),
  KEY bookings_time (startAt, endAt),
  KEY bookings_status_next (status, nextAttemptAt),
  CONSTRAINT bookings_status CHECK (status IN ('held', 'pending', 'scheduling', 'scheduled', 'cancelled', 'failed')),
  CONSTRAINT bookings_span CHECK (endAt > startAt),
  CONSTRAINT bookings_participants CHECK (participants BETWEEN 1 AND 50)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The last known state of each MercadoPago payment.
CREATE TABLE payments (
  id VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  status VARCHAR(32) NOT NULL,
  statusDetail VARCHAR(64) NULL,
  bookingId CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  externalReference VARCHAR(255) NULL,
  amount DECIMAL(12, 2) NULL,
  currency CHAR(3) NULL,
  lastNotifiedAt DATETIME NULL,
  createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updatedAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  KEY payments_booking (bookingId)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The availability cache, shared by every process and host: one row of
-- sync state per calendar, and the events it holds.
CREATE TABLE calendar_sync (
  calendarId VARCHAR(255) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  syncToken VARCHAR(1024) NULL,
  version BIGINT UNSIGNED NOT NULL DEFAULT 0,
  horizonStart DATETIME NULL,
  horizonEnd DATETIME NULL,
  lastSuccessAt DATETIME NULL,
  lastAttemptAt DATETIME NULL,
  lastErrorAt DATETIME NULL,
  lastError VARCHAR(500) NULL,
  refreshingUntil DATETIME NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE calendar_events (
  calendarId VARCHAR(255) CHARACTER SET ascii NOT NULL,
  eventId VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  status VARCHAR(16) NOT NULL,
  transparency VARCHAR(16) NOT NULL DEFAULT 'opaque',
  startAt DATETIME NULL,
  endAt DATETIME NULL,
  startDate DATE NULL,
  endDate DATE NULL,
  summary VARCHAR(1024) NULL,
  description TEXT NULL,
  meetLink VARCHAR(255) NULL,
  bookingId CHAR(32) CHARACTER SET ascii NULL,
  updated VARCHAR(40) NULL,
  PRIMARY KEY (calendarId, eventId),
  KEY calendar_events_time (calendarId, startAt, endAt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
