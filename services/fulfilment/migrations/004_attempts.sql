-- Every call the worker made to the partner for a placement, with what came of it (the console shows the
-- history). Appended in the transaction that records the result; never changed.
CREATE TABLE placement_attempts (
  order_id text NOT NULL,
  position bigint GENERATED ALWAYS AS IDENTITY,
  outcome text NOT NULL,           -- placed, retry, failed
  error text,
  placement_id text,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, position)
);
