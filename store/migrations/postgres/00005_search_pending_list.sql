-- A trigram GIN index buffers new entries in a pending list that every
-- search reads in full until it is merged (4 MB by default: tens of
-- milliseconds per search after bulk inserts). A small list keeps search
-- cost bounded; inserts merge it more often.

-- +goose Up
ALTER INDEX trgm_connections_identifier SET (gin_pending_list_limit = 256);
ALTER INDEX trgm_oauth_sources_slug SET (gin_pending_list_limit = 256);

-- +goose Down
ALTER INDEX trgm_oauth_sources_slug RESET (gin_pending_list_limit);
ALTER INDEX trgm_connections_identifier RESET (gin_pending_list_limit);
