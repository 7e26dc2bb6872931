-- Every call the worker made to the gateway for a payment, with what came of it (an operator's history of
-- the payment: the console shows it). Appended in the transaction that records the result; never changed.
CREATE TABLE payment_attempts (
  order_id text NOT NULL,
  position bigint GENERATED ALWAYS AS IDENTITY,
  step text NOT NULL CHECK (step IN ('charge', 'refund', 'settle_cancelled')),
  outcome text NOT NULL,           -- the gateway's answer: charged, refunded, not_charged, failed, retry
  error text,
  reference text,                  -- the charge or refund id, when the gateway gave one
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, position)
);
