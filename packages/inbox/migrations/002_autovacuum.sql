-- The inbox only grows (pruned hourly in batches): keep its visibility map current, so index-only
-- checks of the key stay cheap, by vacuuming after inserts too (PostgreSQL 13+), and after each pruning.
ALTER TABLE inbox SET (
  autovacuum_vacuum_insert_scale_factor = 0.05,
  autovacuum_vacuum_scale_factor = 0.05
);
