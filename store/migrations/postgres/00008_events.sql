-- The audit trail, served as authentik's events API. An event is written
-- in the transaction of the change it records. The JSON fields are kept
-- as written (user, context, brand); what the filters and the scope of
-- ordinary users need is copied out into indexed columns. event_counts
-- keeps exact counts (all, per user, per action, per model) for the lists, spread
-- over 16 shards (by event) so that concurrent writers seldom wait on one
-- counter row; each write takes the all-scope row first.

-- +goose Up
CREATE TABLE events (
  event_uuid text NOT NULL,
  user_pk bigint,
  username text NOT NULL,
  "user" text NOT NULL,
  action text NOT NULL,
  app text NOT NULL,
  context text NOT NULL,
  client_ip text,
  created timestamptz NOT NULL,
  expires timestamptz NOT NULL,
  brand text NOT NULL,
  model_app text NOT NULL,
  model_name text NOT NULL,
  model_pk text NOT NULL,
  authorized_app text NOT NULL,
  brand_name text NOT NULL,
  PRIMARY KEY (event_uuid)
);
CREATE INDEX idx_events_created ON events (created, event_uuid);
CREATE INDEX idx_events_user ON events (user_pk, created, event_uuid);
CREATE INDEX idx_events_action ON events (action, created, event_uuid);
CREATE INDEX idx_events_username ON events (username, created, event_uuid);
CREATE INDEX idx_events_model_pk ON events (model_pk, created, event_uuid);
CREATE INDEX idx_events_client_ip ON events (client_ip, created, event_uuid);
CREATE INDEX idx_events_model_name ON events (model_name, created, event_uuid);
CREATE INDEX idx_events_model_app ON events (model_app, created, event_uuid);
CREATE INDEX idx_events_expires ON events (expires);

CREATE TABLE event_counts (
  scope text NOT NULL,
  shard integer NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (scope, shard)
);
-- +goose StatementBegin
CREATE FUNCTION events_count() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER events_count AFTER INSERT OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_count();

-- +goose Down
DROP TRIGGER events_count ON events;
DROP FUNCTION events_count();
DROP TABLE event_counts;
DROP TABLE events;
