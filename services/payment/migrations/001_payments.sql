-- One row per order: the primary key makes a second charge for an order impossible, whatever event is
-- redelivered. Rows in 'charging' or 'refunding' are the worker's queue (next_attempt_at, lease_until):
-- calls to the gateway are driven from here, never from a held transaction.
CREATE TABLE payments (
  order_id text PRIMARY KEY,
  status text NOT NULL
    CHECK (status IN ('charging', 'charged', 'failed', 'refunding', 'refunded', 'cancelled')),
  -- Null only for a cancellation that arrived before inventory.reserved (a tombstone: nothing to charge).
  amount numeric(12, 2) CHECK (amount > 0),
  order_snapshot jsonb NOT NULL,        -- payload.order of the event that created the row
  cancel_requested boolean NOT NULL DEFAULT false,
  attempts integer NOT NULL DEFAULT 0,  -- charge calls started (counted when leased)
  refund_attempts integer NOT NULL DEFAULT 0,  -- refund calls and look-ups of a cancelled charge
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz,
  charge_id text,
  refund_id text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (amount IS NOT NULL OR status = 'cancelled'),
  CHECK (charge_id IS NOT NULL OR status NOT IN ('charged', 'refunding', 'refunded')),
  CHECK (refund_id IS NOT NULL OR status <> 'refunded')
);

-- The worker's poll: only the few rows with work left, in due order.
CREATE INDEX payments_due ON payments (next_attempt_at) WHERE status IN ('charging', 'refunding');
