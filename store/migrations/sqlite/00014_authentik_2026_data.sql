-- The data authentik 2026.8 adds to the resources served here, stored
-- ahead of the API that serves it (the 2024.8 contract shows none of it):
--   oauth_sources: pkce (none|plain|S256), authorization_code_auth_method
--     (basic_auth|post_body) and promoted, with authentik's defaults; icon,
--     the writable file reference ('' for none: authentik's blank, whose
--     icon_url is null, which is what the 2024.8 icon has always served).
--   users: last_updated (every save) and password_change_date (set at
--     creation; this server has no passwords, so it never changes after).
-- SQLite adds a NOT NULL column only with a constant default: the users'
-- default below is never used by the store, which sets both dates on
-- every insert. Backfill of existing users (docs/COMPATIBILITY.md,
-- "Upgrading a database written by release e3ef6f3"):
--   password_change_date = date_joined (no password was ever set or changed
--     after the account was made);
--   last_updated = the time of this migration, as authentik's own migration
--     core 0050 did: nothing recorded when a user last changed, and the
--     migration time is never earlier than that change, so a client asking
--     for users changed since some time misses none of them.
-- The time is written in the driver's own format (UTC, +00:00 suffix), so
-- it reads back as a time and sorts with the values the store writes.
-- SQLite's text columns have no length: nothing to widen.

-- +goose Up
ALTER TABLE `oauth_sources` ADD COLUMN `pkce` text NOT NULL DEFAULT 'none';
ALTER TABLE `oauth_sources` ADD COLUMN `authorization_code_auth_method` text NOT NULL DEFAULT 'basic_auth';
ALTER TABLE `oauth_sources` ADD COLUMN `promoted` numeric NOT NULL DEFAULT false;
ALTER TABLE `oauth_sources` ADD COLUMN `icon` text NOT NULL DEFAULT '';
ALTER TABLE `users` ADD COLUMN `last_updated` datetime NOT NULL DEFAULT '1970-01-01 00:00:00+00:00';
ALTER TABLE `users` ADD COLUMN `password_change_date` datetime NOT NULL DEFAULT '1970-01-01 00:00:00+00:00';
UPDATE `users` SET `password_change_date` = `date_joined`,
  -- written as the driver writes times (no trailing zeros in the fraction),
  -- so that the text compares equal to the same instant written by the store
  `last_updated` = rtrim(rtrim(strftime('%Y-%m-%d %H:%M:%f', 'now'), '0'), '.') || '+00:00';

-- +goose Down
ALTER TABLE `users` DROP COLUMN `password_change_date`;
ALTER TABLE `users` DROP COLUMN `last_updated`;
ALTER TABLE `oauth_sources` DROP COLUMN `icon`;
ALTER TABLE `oauth_sources` DROP COLUMN `promoted`;
ALTER TABLE `oauth_sources` DROP COLUMN `authorization_code_auth_method`;
ALTER TABLE `oauth_sources` DROP COLUMN `pkce`;
