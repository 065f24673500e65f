-- PostgreSQL gains trigram indexes for substring search in this version.
-- SQLite has no equivalent without FTS5; its search scans (see docs/QUERY_PLANS.md).

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
