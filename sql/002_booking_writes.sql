-- What the write side needs: the first reply to an Idempotency-Key, kept
-- so a replay answers the same; and one row whose lock serializes the
-- decision "is this slot free?" across every process and host.

ALTER TABLE bookings
  ADD COLUMN idempotencyStatus SMALLINT NULL AFTER idempotencyHash,
  ADD COLUMN idempotencyReply MEDIUMTEXT NULL AFTER idempotencyStatus;

CREATE TABLE booking_locks (
  name VARCHAR(32) CHARACTER SET ascii NOT NULL PRIMARY KEY
) ENGINE=InnoDB;

INSERT INTO booking_locks (name) VALUES ('slots');
