-- SQLite renumbers its events in created order here and keys its filter
-- indexes on their column alone (its 00013); nothing changes on
-- PostgreSQL.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
