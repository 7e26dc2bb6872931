-- The saga's steps before the charge (SPEC §2: inventory.reserved carries them), kept with the payment so
-- that payment.processed and payment.failed pass them on, with the charge's own step, to the services after.
ALTER TABLE payments ADD COLUMN steps jsonb NOT NULL DEFAULT '[]';
