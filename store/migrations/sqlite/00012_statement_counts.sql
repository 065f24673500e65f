-- PostgreSQL's counters are kept by statement triggers from this version
-- on (its 00012). SQLite's writer counts what it inserts itself (00011);
-- nothing changes here.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
