-- Every row carries a version, bumped by each committed change: it makes
-- the strong ETags of conditional requests, and lets the store keep the
-- few OAuth sources in memory, checked against the version every read
-- joins in, instead of reading every source column for every connection.

-- +goose Up
ALTER TABLE users ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE tokens ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE oauth_sources ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE connections ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE connections DROP COLUMN version;
ALTER TABLE oauth_sources DROP COLUMN version;
ALTER TABLE tokens DROP COLUMN version;
ALTER TABLE users DROP COLUMN version;
