-- Secrets (connections.access_token, oauth_sources.consumer_secret,
-- tokens.key) are stored sealed from this version on (package seal).
-- secret_keys holds a check value per key that has sealed values, so that
-- a wrong or missing key is refused at start; store_state remembers that
-- the plaintext secrets of an earlier release are still to be sealed,
-- which the store does, in batches, the first time it opens the database
-- with a key (Store.sealPlaintext). A sealed key is longer than the
-- 255 characters tokens.key allowed.

-- +goose Up
CREATE TABLE secret_keys (
  key_id text NOT NULL,
  check_value text NOT NULL,
  PRIMARY KEY (key_id)
);
CREATE TABLE store_state (
  name text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (name)
);
INSERT INTO store_state (name, value) VALUES ('secrets', 'plaintext');
ALTER TABLE tokens ALTER COLUMN key TYPE text;

-- +goose Down
ALTER TABLE tokens ALTER COLUMN key TYPE varchar(255);
DROP TABLE store_state;
DROP TABLE secret_keys;
