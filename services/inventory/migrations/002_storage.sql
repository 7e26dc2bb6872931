-- A handful of stock rows take every reservation and sale: room on their pages keeps those updates HOT,
-- and vacuum comes after a thousand dead versions rather than after a fraction of a tiny table.
ALTER TABLE stock SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
-- A reservation changes once or twice (reserved, then sold or released).
ALTER TABLE reservations SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.05);
