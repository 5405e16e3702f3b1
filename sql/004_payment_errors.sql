-- A payment that could not become a class (bad metadata, no slot) keeps
-- the reason here for the admin, when no booking row can say it.
ALTER TABLE payments
  ADD COLUMN lastError VARCHAR(500) NULL AFTER currency;
