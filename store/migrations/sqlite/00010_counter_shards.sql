-- PostgreSQL shards its counters by database session in this version;
-- SQLite has one writer at a time and a single shard.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
