-- Exact connection counts without scanning: connection_counts holds the
-- number of connections in all (scope '') and per source (scope = the
-- source's id), kept by a trigger in the same transaction as every insert,
-- delete and move between sources (cascades included). An unfiltered list
-- and a list of one source sum 16 rows instead of counting a million.
-- Each scope is spread over 16 shards (by connection id), so that
-- concurrent writers seldom wait on the same counter row; each write
-- takes the all-scope row before the source's, always in that order.

-- +goose Up
CREATE TABLE connection_counts (
  scope text NOT NULL,
  shard integer NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (scope, shard)
);
INSERT INTO connection_counts (scope, shard, n) SELECT '', 0, COUNT(*) FROM connections;
INSERT INTO connection_counts (scope, shard, n) SELECT source_id, 0, COUNT(*) FROM connections GROUP BY source_id;

-- +goose StatementBegin
CREATE FUNCTION connections_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO connection_counts (scope, shard, n) VALUES ('', NEW.id % 16, 1), (NEW.source_id, NEW.id % 16, 1)
      ON CONFLICT (scope, shard) DO UPDATE SET n = connection_counts.n + 1;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE connection_counts SET n = n - 1 WHERE shard = OLD.id % 16 AND scope IN ('', OLD.source_id);
  ELSIF OLD.source_id <> NEW.source_id THEN
    UPDATE connection_counts SET n = n - 1 WHERE shard = OLD.id % 16 AND scope = OLD.source_id;
    INSERT INTO connection_counts (scope, shard, n) VALUES (NEW.source_id, NEW.id % 16, 1)
      ON CONFLICT (scope, shard) DO UPDATE SET n = connection_counts.n + 1;
  END IF;
  RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER connections_count AFTER INSERT OR DELETE OR UPDATE OF source_id ON connections
  FOR EACH ROW EXECUTE FUNCTION connections_count();

-- +goose StatementBegin
CREATE FUNCTION oauth_sources_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM connection_counts WHERE scope = OLD.id;
  RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER oauth_sources_count_delete AFTER DELETE ON oauth_sources
  FOR EACH ROW EXECUTE FUNCTION oauth_sources_count_delete();

-- +goose Down
DROP TRIGGER oauth_sources_count_delete ON oauth_sources;
DROP FUNCTION oauth_sources_count_delete();
DROP TRIGGER connections_count ON connections;
DROP FUNCTION connections_count();
DROP TABLE connection_counts;
