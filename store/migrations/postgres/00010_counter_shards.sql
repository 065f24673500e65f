-- Counter shards by database session. Each write used to update the
-- counter rows of a shard picked from the row (connection id % 16, or a
-- hash of the event's id), and held them until it committed: with 25
-- sessions writing and 16 shards most writes waited for another's commit
-- (a seventh of the backends' samples in pg_stat_activity waited on a
-- transaction lock during the create benchmark). A session now updates
-- the shard of its own backend (pg_backend_pid() % 64): the sessions of a
-- pool are forked one after another, so their shards differ and writers
-- seldom meet on a counter row. A shard may go below zero (a row counted
-- in one shard and removed through another); the sums the lists read stay
-- exact.
--
-- The counts are taken again from the table: the version before could
-- lose a removal (it decremented the shard of the connection's id, which
-- has no row for connections counted when the counters were created, all
-- in shard 0).

-- +goose Up
LOCK TABLE connections IN SHARE MODE;
DELETE FROM connection_counts;
INSERT INTO connection_counts (scope, shard, n) SELECT '', 0, COUNT(*) FROM connections;
INSERT INTO connection_counts (scope, shard, n) SELECT source_id, 0, COUNT(*) FROM connections GROUP BY source_id;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION connections_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  s integer := pg_backend_pid() % 64;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO connection_counts (scope, shard, n) VALUES ('', s, 1), (NEW.source_id, s, 1)
      ON CONFLICT (scope, shard) DO UPDATE SET n = connection_counts.n + EXCLUDED.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO connection_counts (scope, shard, n) VALUES ('', s, -1), (OLD.source_id, s, -1)
      ON CONFLICT (scope, shard) DO UPDATE SET n = connection_counts.n + EXCLUDED.n;
  ELSIF OLD.source_id <> NEW.source_id THEN
    -- In the order of the scopes, as every writer takes counter rows.
    INSERT INTO connection_counts (scope, shard, n)
      SELECT scope, s, d FROM (VALUES (OLD.source_id::text, -1), (NEW.source_id::text, 1)) AS m (scope, d) ORDER BY scope
      ON CONFLICT (scope, shard) DO UPDATE SET n = connection_counts.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION events_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r events;
  d integer;
BEGIN
  IF TG_OP = 'INSERT' THEN r := NEW; d := 1; ELSE r := OLD; d := -1; END IF;
  INSERT INTO event_counts (scope, shard, n)
    SELECT s, pg_backend_pid() % 64, d
    FROM unnest(ARRAY['', 'a:' || r.action]
      || CASE WHEN r.user_pk IS NULL THEN ARRAY[]::text[] ELSE ARRAY['u:' || r.user_pk] END
      || CASE WHEN r.model_name = '' THEN ARRAY[]::text[] ELSE ARRAY['m:' || r.model_app || '.' || r.model_name] END) AS s
    ORDER BY s
    ON CONFLICT (scope, shard) DO UPDATE SET n = event_counts.n + d;
  RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION events_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r events;
  d integer;
BEGIN
  IF TG_OP = 'INSERT' THEN r := NEW; d := 1; ELSE r := OLD; d := -1; END IF;
  INSERT INTO event_counts (scope, shard, n)
    SELECT s, get_byte(decode(md5(r.event_uuid), 'hex'), 0) % 16, d
    FROM unnest(ARRAY['', 'a:' || r.action]
      || CASE WHEN r.user_pk IS NULL THEN ARRAY[]::text[] ELSE ARRAY['u:' || r.user_pk] END
      || CASE WHEN r.model_name = '' THEN ARRAY[]::text[] ELSE ARRAY['m:' || r.model_app || '.' || r.model_name] END) AS s
    ORDER BY s
    ON CONFLICT (scope, shard) DO UPDATE SET n = event_counts.n + d;
  RETURN NULL;
END $$;
-- +goose StatementEnd

-- The version before decrements the shard of a connection's id: every
-- connection is counted there.
LOCK TABLE connections IN SHARE MODE;
DELETE FROM connection_counts;
INSERT INTO connection_counts (scope, shard, n) SELECT '', id % 16, COUNT(*) FROM connections GROUP BY id % 16;
INSERT INTO connection_counts (scope, shard, n) SELECT source_id, id % 16, COUNT(*) FROM connections GROUP BY source_id, id % 16;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION connections_count() RETURNS trigger LANGUAGE plpgsql AS $$
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
