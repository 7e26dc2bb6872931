-- Issue 22. Admission control counts each customer's orders in flight (SPEC §4.9: one customer cannot take
-- the whole capacity): by customer, over the PENDING orders only.
CREATE INDEX orders_pending_user ON orders (user_id) WHERE status = 'PENDING';
-- The searches the API and the console offer, each served by an index, so that a search that matches
-- nothing reads no more than one that matches a little (tested with EXPLAIN in orders-search.test.ts):
-- by product (jsonb containment of the items; jsonb_path_ops serves @> only, and is the smaller index),
-- by reason, and by the time of placement.
CREATE INDEX orders_items ON orders USING gin (items jsonb_path_ops);
CREATE INDEX orders_reason_seq ON orders (reason, seq DESC) WHERE reason IS NOT NULL;
CREATE INDEX orders_created_at ON orders (created_at);
