-- Substring search (?search=) over connection identifiers, source slugs and
-- user names uses LOWER(column) LIKE '%term%'; trigram GIN indexes let
-- PostgreSQL answer it without scanning the table. pg_trgm is a trusted
-- extension: the database owner may create it. It lives in public so that
-- every schema can use its operator class.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX trgm_connections_identifier ON connections USING gin (lower(identifier) public.gin_trgm_ops);
CREATE INDEX trgm_oauth_sources_slug ON oauth_sources USING gin (lower(slug) public.gin_trgm_ops);

-- +goose Down
DROP INDEX trgm_oauth_sources_slug;
DROP INDEX trgm_connections_identifier;
