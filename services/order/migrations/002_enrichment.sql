-- Enrichment (pricing from the user and product services) is driven by the order row itself: a worker
-- leases orders that are PENDING and not yet priced, so a crash mid-way only delays an order until its
-- lease runs out, and another instance can take it.
ALTER TABLE orders
  ADD COLUMN priced_at timestamptz,
  ADD COLUMN enrichment_lease_until timestamptz;

CREATE INDEX orders_awaiting_enrichment ON orders (created_at) WHERE status = 'PENDING' AND priced_at IS NULL;
