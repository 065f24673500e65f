-- Initial schema: users, API tokens, OAuth sources and user connections.
-- Column and index names are what the GORM models in store/models.go expect;
-- store/schema_test.go fails when the two drift apart.

-- +goose Up
CREATE TABLE `users` (
  `id` integer PRIMARY KEY AUTOINCREMENT,
  `uuid` text NOT NULL,
  `username` text NOT NULL,
  `name` text NOT NULL,
  `email` text NOT NULL,
  `is_active` numeric NOT NULL,
  `is_superuser` numeric NOT NULL,
  `path` text NOT NULL,
  `type` text NOT NULL,
  `attributes` text NOT NULL,
  `date_joined` datetime NOT NULL,
  `last_login` datetime
);
CREATE UNIQUE INDEX `idx_users_uuid` ON `users`(`uuid`);
CREATE UNIQUE INDEX `idx_users_username` ON `users`(`username`);
CREATE INDEX `idx_users_email` ON `users`(`email`);

CREATE TABLE `tokens` (
  `id` text NOT NULL,
  `identifier` text NOT NULL,
  `key` text NOT NULL,
  `key_hash` text NOT NULL,
  `intent` text NOT NULL,
  `user_id` integer NOT NULL,
  `description` text NOT NULL,
  `expires` datetime,
  `expiring` numeric NOT NULL,
  `managed` text,
  PRIMARY KEY (`id`),
  CONSTRAINT `fk_tokens_user` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE CASCADE
);
CREATE UNIQUE INDEX `idx_tokens_identifier` ON `tokens`(`identifier`);
CREATE UNIQUE INDEX `idx_tokens_key_hash` ON `tokens`(`key_hash`);
CREATE UNIQUE INDEX `idx_tokens_managed` ON `tokens`(`managed`);
CREATE INDEX `idx_tokens_user_id` ON `tokens`(`user_id`);
CREATE INDEX `idx_tokens_expires` ON `tokens`(`expires`);

CREATE TABLE `oauth_sources` (
  `id` text NOT NULL,
  `name` text NOT NULL,
  `slug` text NOT NULL,
  `enabled` numeric NOT NULL,
  `authentication_flow` text,
  `enrollment_flow` text,
  `user_property_mappings` text NOT NULL,
  `group_property_mappings` text NOT NULL,
  `policy_engine_mode` text NOT NULL,
  `user_matching_mode` text NOT NULL,
  `group_matching_mode` text NOT NULL,
  `managed` text,
  `user_path_template` text NOT NULL,
  `provider_type` text NOT NULL,
  `request_token_url` text,
  `authorization_url` text,
  `access_token_url` text,
  `profile_url` text,
  `consumer_key` text NOT NULL,
  `consumer_secret` text NOT NULL,
  `additional_scopes` text NOT NULL,
  `oidc_well_known_url` text NOT NULL,
  `oidc_jwks_url` text NOT NULL,
  `oidc_jwks` text NOT NULL,
  `created_at` datetime,
  `updated_at` datetime,
  PRIMARY KEY (`id`)
);
CREATE UNIQUE INDEX `idx_oauth_sources_slug` ON `oauth_sources`(`slug`);
CREATE UNIQUE INDEX `idx_oauth_sources_managed` ON `oauth_sources`(`managed`);
CREATE INDEX `idx_oauth_sources_name` ON `oauth_sources`(`name`);

CREATE TABLE `connections` (
  `id` integer PRIMARY KEY AUTOINCREMENT,
  `user_id` integer NOT NULL,
  `source_id` text NOT NULL,
  `identifier` text NOT NULL,
  `access_token` text,
  `expires` datetime,
  `created` datetime NOT NULL,
  `last_updated` datetime NOT NULL,
  CONSTRAINT `fk_connections_user` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE CASCADE,
  CONSTRAINT `fk_connections_source` FOREIGN KEY (`source_id`) REFERENCES `oauth_sources`(`id`) ON DELETE CASCADE
);
CREATE UNIQUE INDEX `uq_connection_user_source` ON `connections`(`user_id`, `source_id`);
CREATE UNIQUE INDEX `uq_connection_source_identifier` ON `connections`(`source_id`, `identifier`);
CREATE INDEX `idx_connections_source_id_id` ON `connections`(`source_id`, `id`);
CREATE INDEX `idx_connections_identifier` ON `connections`(`identifier`);
CREATE INDEX `idx_connections_created` ON `connections`(`created`);

-- +goose Down
DROP TABLE `connections`;
DROP TABLE `oauth_sources`;
DROP TABLE `tokens`;
DROP TABLE `users`;
