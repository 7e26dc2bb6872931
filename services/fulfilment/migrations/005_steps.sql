-- The saga's steps before the placement (SPEC §2: payment.processed carries them), kept with the placement
-- so that fulfilment.placed and fulfilment.failed pass them on, with the placement's own step, to the order.
ALTER TABLE placements ADD COLUMN steps jsonb NOT NULL DEFAULT '[]';
