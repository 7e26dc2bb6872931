-- One row per paid order: the placement at the fulfilment partner is driven by this row, not by a
-- message or a process, so it survives any restart. A worker leases 'placing' rows that are due; the
-- retry schedule (next_attempt_at) and the give-up time (deadline_at) live here too.
-- A row written by a cancellation that arrived first ('cancelled', never placed) makes a later
-- payment.processed a no-op: the cancellation wins.
CREATE TABLE placements (
  order_id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('placing', 'placed', 'failed', 'cancelled')),
  order_snapshot jsonb NOT NULL,         -- the order as events carry it: the partner's items, our events
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  deadline_at timestamptz,               -- NULL only for a cancellation that came before the payment
  lease_until timestamptz,
  placement_id text,                     -- the partner's reference, once it accepted the order
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (status <> 'placing' OR deadline_at IS NOT NULL)
);

-- What the worker scans: only placements still in progress, by when they are due.
CREATE INDEX placements_due ON placements (next_attempt_at) WHERE status = 'placing';
