CREATE TABLE orders (
  id uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,            -- arrival order: newest-first listing and its cursor
  user_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'CANCELLED')),
  reason text,
  -- Items are a value of the order, always read and written whole: one column, no join on the hot path.
  items jsonb NOT NULL,
  customer_fullname text,
  total_amount numeric(12, 2),
  requested_total_amount numeric(12, 2),              -- seed 002's client-sent total, checked once priced
  idempotency_key text,
  request_hash text,
  timeline jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Most orders carry no key: indexing only those that do spares every other insert an index entry.
CREATE UNIQUE INDEX orders_idempotency_key ON orders (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX orders_seq ON orders (seq DESC);
CREATE INDEX orders_user_seq ON orders (user_id, seq DESC);
CREATE INDEX orders_status_seq ON orders (status, seq DESC);
