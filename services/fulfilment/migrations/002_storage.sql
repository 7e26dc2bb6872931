-- A placement row changes a few times (placing, placed; its lease and schedule): room on its page keeps
-- those updates HOT, and vacuum comes after 5 % of the rows changed.
ALTER TABLE placements SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.05);
