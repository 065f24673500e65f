-- Initial schema: users, API tokens, OAuth sources and user connections.
-- Column and index names are what the GORM models in store/models.go expect;
-- store/schema_test.go fails when the two drift apart.

-- +goose Up
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  uuid varchar(36) NOT NULL,
  username varchar(150) NOT NULL,
  name text NOT NULL,
  email varchar(254) NOT NULL,
  is_active boolean NOT NULL,
  is_superuser boolean NOT NULL,
  path text NOT NULL,
  type varchar(32) NOT NULL,
  attributes text NOT NULL,
  date_joined timestamptz NOT NULL,
  last_login timestamptz
);
CREATE UNIQUE INDEX idx_users_uuid ON users (uuid);
CREATE UNIQUE INDEX idx_users_username ON users (username);
CREATE INDEX idx_users_email ON users (email);

CREATE TABLE tokens (
  id varchar(36) PRIMARY KEY,
  identifier varchar(255) NOT NULL,
  key varchar(255) NOT NULL,
  key_hash varchar(64) NOT NULL,
  intent varchar(32) NOT NULL,
  user_id bigint NOT NULL,
  description text NOT NULL,
  expires timestamptz,
  expiring boolean NOT NULL,
  managed text,
  CONSTRAINT fk_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX idx_tokens_identifier ON tokens (identifier);
CREATE UNIQUE INDEX idx_tokens_key_hash ON tokens (key_hash);
CREATE UNIQUE INDEX idx_tokens_managed ON tokens (managed);
CREATE INDEX idx_tokens_user_id ON tokens (user_id);
CREATE INDEX idx_tokens_expires ON tokens (expires);

CREATE TABLE oauth_sources (
  id varchar(36) PRIMARY KEY,
  name text NOT NULL,
  slug varchar(50) NOT NULL,
  enabled boolean NOT NULL,
  authentication_flow varchar(36),
  enrollment_flow varchar(36),
  user_property_mappings text NOT NULL,
  group_property_mappings text NOT NULL,
  policy_engine_mode varchar(8) NOT NULL,
  user_matching_mode varchar(32) NOT NULL,
  group_matching_mode varchar(32) NOT NULL,
  managed text,
  user_path_template text NOT NULL,
  provider_type varchar(32) NOT NULL,
  request_token_url varchar(255),
  authorization_url varchar(255),
  access_token_url varchar(255),
  profile_url varchar(255),
  consumer_key text NOT NULL,
  consumer_secret text NOT NULL,
  additional_scopes text NOT NULL,
  oidc_well_known_url text NOT NULL,
  oidc_jwks_url text NOT NULL,
  oidc_jwks text NOT NULL,
  created_at timestamptz,
  updated_at timestamptz
);
CREATE UNIQUE INDEX idx_oauth_sources_slug ON oauth_sources (slug);
CREATE UNIQUE INDEX idx_oauth_sources_managed ON oauth_sources (managed);
CREATE INDEX idx_oauth_sources_name ON oauth_sources (name);

CREATE TABLE connections (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL,
  source_id varchar(36) NOT NULL,
  identifier varchar(255) NOT NULL,
  access_token text,
  expires timestamptz,
  created timestamptz NOT NULL,
  last_updated timestamptz NOT NULL,
  CONSTRAINT fk_connections_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT fk_connections_source FOREIGN KEY (source_id) REFERENCES oauth_sources (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX uq_connection_user_source ON connections (user_id, source_id);
CREATE UNIQUE INDEX uq_connection_source_identifier ON connections (source_id, identifier);
CREATE INDEX idx_connections_source_id_id ON connections (source_id, id);
CREATE INDEX idx_connections_identifier ON connections (identifier);
CREATE INDEX idx_connections_created ON connections (created);

-- +goose Down
DROP TABLE connections;
DROP TABLE oauth_sources;
DROP TABLE tokens;
DROP TABLE users;
