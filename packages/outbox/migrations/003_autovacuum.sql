-- Every outbox row is inserted and deleted within milliseconds: the table is small but churns through
-- thousands of dead rows a second under load. With the default thresholds (20 % of a nearly empty table)
-- autovacuum would come rarely and late, and every scan of the table would wade through dead rows. Vacuum
-- it after every thousand dead rows, without the cost delay that paces vacuuming of large tables.
ALTER TABLE outbox SET (
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_vacuum_cost_delay = 0,
  autovacuum_analyze_scale_factor = 0,
  autovacuum_analyze_threshold = 5000
);
