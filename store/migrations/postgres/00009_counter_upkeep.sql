-- The counters (connection_counts, event_counts) are a few hundred rows
-- updated by every write: each update leaves a dead row behind, and a
-- million writes left 122 MB for 176 live rows, which the default
-- autovacuum thresholds (20 % of the table) let grow. Room on every page
-- lets an update stay on its page (HOT: no index entry, reclaimed as the
-- page is read), and autovacuum visits the tables after every thousand
-- changes.

-- +goose Up
ALTER TABLE connection_counts SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
  autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000);
ALTER TABLE event_counts SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
  autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000);

-- +goose Down
ALTER TABLE event_counts RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,
  autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
ALTER TABLE connection_counts RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,
  autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
