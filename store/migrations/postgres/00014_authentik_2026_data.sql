-- The data authentik 2026.8 adds to the resources served here, stored
-- ahead of the API that serves it (the 2024.8 contract shows none of it):
--   oauth_sources: pkce (none|plain|S256), authorization_code_auth_method
--     (basic_auth|post_body) and promoted, with authentik's defaults; icon,
--     the writable file reference ('' for none: authentik's blank, whose
--     icon_url is null, which is what the 2024.8 icon has always served).
--   users: last_updated (every save) and password_change_date (set at
--     creation; this server has no passwords, so it never changes after).
-- Backfill of existing users (docs/COMPATIBILITY.md, "Upgrading a database
-- written by release e3ef6f3"):
--   password_change_date = date_joined (no password was ever set or changed
--     after the account was made);
--   last_updated = the time of this migration (now(), the transaction's
--     start), as authentik's own migration core 0050 did: nothing recorded
--     when a user last changed, and the migration time is never earlier
--     than that change, so a client asking for users changed since some
--     time misses none of them.
-- Neither column keeps a default: the store sets both on every insert.
-- authentik 2026.8 drops the length limits of the source's slug and URLs
-- and of the connection's identifier: they become text. varchar to text is
-- binary-coercible: no table is rewritten and no B-tree rebuilt; the
-- trigram indexes on lower(identifier) and lower(slug), expression
-- indexes, are rebuilt, with the tables locked meanwhile. The 2024.8
-- contract still bounds these columns by request validation; the unique
-- B-tree indexes on slug and identifier refuse entries over about 2700
-- bytes, so the 2026.8 contract needs a bound of its own
-- (docs/COMPATIBILITY.md).

-- +goose Up
ALTER TABLE oauth_sources
  ADD COLUMN pkce text NOT NULL DEFAULT 'none',
  ADD COLUMN authorization_code_auth_method text NOT NULL DEFAULT 'basic_auth',
  ADD COLUMN promoted boolean NOT NULL DEFAULT false,
  ADD COLUMN icon text NOT NULL DEFAULT '',
  ALTER COLUMN slug TYPE text,
  ALTER COLUMN request_token_url TYPE text,
  ALTER COLUMN authorization_url TYPE text,
  ALTER COLUMN access_token_url TYPE text,
  ALTER COLUMN profile_url TYPE text;
ALTER TABLE users
  ADD COLUMN last_updated timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN password_change_date timestamptz;
UPDATE users SET password_change_date = date_joined;
ALTER TABLE users
  ALTER COLUMN last_updated DROP DEFAULT,
  ALTER COLUMN password_change_date SET NOT NULL;
ALTER TABLE connections ALTER COLUMN identifier TYPE text;

-- +goose Down
-- (Narrowing fails when a longer value was stored since: nothing is cut.)
ALTER TABLE connections ALTER COLUMN identifier TYPE varchar(255);
ALTER TABLE users DROP COLUMN password_change_date, DROP COLUMN last_updated;
ALTER TABLE oauth_sources
  DROP COLUMN icon,
  DROP COLUMN promoted,
  DROP COLUMN authorization_code_auth_method,
  DROP COLUMN pkce,
  ALTER COLUMN slug TYPE varchar(50),
  ALTER COLUMN request_token_url TYPE varchar(255),
  ALTER COLUMN authorization_url TYPE varchar(255),
  ALTER COLUMN access_token_url TYPE varchar(255),
  ALTER COLUMN profile_url TYPE varchar(255);
