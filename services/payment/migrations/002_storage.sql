-- A payment row changes a few times (charging, charged; its lease and schedule): room on its page keeps
-- those updates HOT, and vacuum comes after 5 % of the rows changed.
ALTER TABLE payments SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.05);
