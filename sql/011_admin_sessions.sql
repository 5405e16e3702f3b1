-- The admin console's sign-in (DESIGN.md "The admin console").
--
-- oauth_states.flow: which round trip through Google a state belongs to,
-- "connect" (/oauth/google/start: the calendar's refresh token is kept) or
-- "signin" (/admin/login: a console session, the stored token untouched).
-- Both come back to the one registered redirect URI.
ALTER TABLE oauth_states
  ADD COLUMN flow VARCHAR(16) NOT NULL DEFAULT 'connect' AFTER codeVerifier,
  ADD CONSTRAINT oauth_states_flow CHECK (flow IN ('connect', 'signin'));

-- A console session: only the SHA-256 of its random 256-bit id is kept
-- (the id itself lives in the admin's cookie). It ends at expiresAt (8
-- hours after it was last used, never more than 24 hours after sign-in),
-- or when the admin logs out. Owned by src/school/session.c.
CREATE TABLE admin_sessions (
  idHash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  email VARCHAR(254) NOT NULL,
  createdAt DATETIME NOT NULL,
  lastSeenAt DATETIME NOT NULL,
  expiresAt DATETIME NOT NULL,
  KEY admin_sessions_email (email),
  KEY admin_sessions_expires (expiresAt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
