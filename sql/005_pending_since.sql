-- Since when a booking has waited for Google (the first failed try), so
-- reconciliation can give up after 24 hours of trying, whatever happened
-- to the booking before.
ALTER TABLE bookings
  ADD COLUMN pendingSince DATETIME NULL AFTER nextAttemptAt;
