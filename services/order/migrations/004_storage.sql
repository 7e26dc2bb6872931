-- An order's row is updated four to six times in its first second (priced, stock reserved, paid,
-- completed): pages left 30 % free let most of those updates stay on the page and skip every index
-- (HOT updates), where a full page makes each one write a new entry into all six indexes. Autovacuum
-- comes after 5 % of the rows changed rather than 20 %, so the free space is reclaimed while it matters.
ALTER TABLE orders SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05);
