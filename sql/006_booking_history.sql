-- Every change of a booking's status: from what (NULL for a new booking),
-- to what, when and why. Written only by the booking lifecycle
-- (src/school/ledger.c) in the same transaction as the change itself; the
-- admin console shows it.
CREATE TABLE booking_history (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  bookingId CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  fromStatus VARCHAR(16) NULL,
  toStatus VARCHAR(16) NOT NULL,
  reason VARCHAR(255) NOT NULL,
  at DATETIME(6) NOT NULL,
  KEY booking_history_booking (bookingId, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
