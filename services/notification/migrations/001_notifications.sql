-- What the customer was told, one row per (order, kind): the primary key is what makes a notification
-- happen once, even when two different events of the same kind arrive (a re-published payment.processed,
-- say), which the inbox alone would not catch since their ids differ.
CREATE TABLE notifications (
  order_id text NOT NULL,
  kind text NOT NULL CHECK (
    kind IN ('order.completed', 'order.cancelled', 'payment.processed', 'payment.failed', 'payment.refunded')
  ),
  event_id text NOT NULL,               -- the event that caused it, to trace it back
  recipient text NOT NULL,              -- the order's user_id
  customer_fullname text,               -- null when the order was cancelled before the user was looked up
  message text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}',  -- reason, amounts and references, as the event carried them
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, kind)
);
