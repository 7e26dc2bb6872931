-- The saga deadline sweeps PENDING orders by age; enrichment leases the unpriced ones among them, oldest
-- first. One partial index serves both (it replaces the enrichment-only one, so intake pays for no more
-- index entries than before): it holds only orders in flight, never the final ones.
DROP INDEX orders_awaiting_enrichment;
CREATE INDEX orders_pending ON orders (created_at) WHERE status = 'PENDING';
