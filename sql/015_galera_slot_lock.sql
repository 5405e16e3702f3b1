-- The slot lock becomes a write: a Galera cluster certifies the rows a
-- transaction writes, not the rows it locks by reading, so taking the lock
-- bumps this counter (school/ledger.c, ledger_lock_slots).
ALTER TABLE booking_locks ADD COLUMN takes BIGINT UNSIGNED NOT NULL DEFAULT 0;
