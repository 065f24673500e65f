-- PostgreSQL bounds its trigram indexes' pending lists in this version;
-- SQLite's search index (FTS5, see store/search.go) has none.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
