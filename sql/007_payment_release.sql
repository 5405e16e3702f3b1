-- When a pending payment's slot is released: MercadoPago's
-- date_of_expiration, or a bound after the payment was first heard of
-- (src/core/limit.h LIMIT_PAYMENT_PENDING_H, at most
-- LIMIT_PAYMENT_PENDING_MAX_H). reconcile moves a pending booking whose
-- payment is past it to failed, so a payment never paid keeps no slot
-- forever. NULL for a payment that is not pending.
ALTER TABLE payments
  ADD COLUMN releaseAt DATETIME NULL AFTER lastError;

-- Payments already pending keep their slot 48 hours from when they were
-- first heard of, as a new one without date_of_expiration does.
UPDATE payments SET releaseAt = createdAt + INTERVAL 48 HOUR
  WHERE status IN ('pending', 'in_process', 'authorized');
