-- Lists ordered by user, identifier or created (either direction) with the
-- pk as tie-breaker read one index in order instead of sorting: each of
-- these indexes ends with the pk.

-- +goose Up
DROP INDEX idx_connections_identifier;
DROP INDEX idx_connections_created;
CREATE INDEX idx_connections_identifier ON connections (identifier, id);
CREATE INDEX idx_connections_created ON connections (created, id);
CREATE INDEX idx_connections_user_id_id ON connections (user_id, id);

-- +goose Down
DROP INDEX idx_connections_user_id_id;
DROP INDEX idx_connections_created;
DROP INDEX idx_connections_identifier;
CREATE INDEX idx_connections_identifier ON connections (identifier);
CREATE INDEX idx_connections_created ON connections (created);
