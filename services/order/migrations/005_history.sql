-- The order's history (seed 001's audit trail): one row per change, appended in the transaction that made
-- it, never updated or deleted. The order row is its projection (the fold of its history, see
-- order-state-machine.ts `evolve`), kept for queries; the timeline `GET /orders/{id}` shows is read from
-- here. `position` numbers an order's changes 1, 2, …: the order row's `version` is the last one, and a
-- transition writes the next positions only where the row still has the version it was decided on.
CREATE TABLE order_history (
  order_id uuid NOT NULL,
  position integer NOT NULL CHECK (position >= 1),
  step text NOT NULL,
  reason text,
  after_final boolean NOT NULL DEFAULT false,
  data jsonb,                                   -- what the change carried: items, prices, the charge, …
  event_id text,                                -- the integration event that reported it, if any
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, position)
);
-- No foreign key to orders: the row is always written in the same transaction as its order's, and a key
-- check would add an index probe to every append on the hottest path.

CREATE FUNCTION refuse_order_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'order_history is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
-- Statement triggers: they cost nothing on inserts, and refuse any UPDATE, DELETE or TRUNCATE.
CREATE TRIGGER order_history_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON order_history
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_order_history_change();

ALTER TABLE orders ADD COLUMN version integer NOT NULL DEFAULT 0;

-- Orders stored before the history: their timeline becomes their history, with what the row still tells
-- of each change.
INSERT INTO order_history (order_id, position, step, reason, after_final, data, at)
SELECT o.id, e.n, e.v->>'step', e.v->>'reason', coalesce((e.v->>'after_final')::boolean, false),
       CASE e.v->>'step'
         WHEN 'placed' THEN jsonb_build_object(
           'user_id', o.user_id,
           'items', (SELECT jsonb_agg(i || '{"product_name": null, "unit_price": null}'::jsonb)
                       FROM jsonb_array_elements(o.items) AS i),
           'requested_total_amount', o.requested_total_amount)
         WHEN 'priced' THEN jsonb_build_object(
           'customer_fullname', o.customer_fullname, 'items', o.items, 'total_amount', o.total_amount)
       END,
       (e.v->>'at')::timestamptz
  FROM orders o, jsonb_array_elements(o.timeline) WITH ORDINALITY AS e(v, n);
UPDATE orders SET version = jsonb_array_length(timeline);
ALTER TABLE orders DROP COLUMN timeline;
