-- authentik renamed the provider type azuread entraid after 2024.8, kept
-- azuread as a deprecated alias, and 2026.8 removes it. authentik's own
-- code asks, on removing it, for the migration that sets provider_type to
-- 'entraid' where it is 'azuread'. This is that migration. The 2024.8
-- contract has azuread and no entraid: its mount must show entraid as
-- azuread (this migration belongs to the release that switches /api/v3/
-- to 2026.8, which brings that mapping).
-- The row's version is left: the 2024.8 representation does not change
-- (its entity tags stay valid), and the 2026.8 one is new anyway (its
-- tags name the contract).
-- Down gives the release before this migration, which knows azuread and
-- not entraid, every entraid source as azuread, those created since
-- included.

-- +goose Up
UPDATE `oauth_sources` SET `provider_type` = 'entraid' WHERE `provider_type` = 'azuread';

-- +goose Down
UPDATE `oauth_sources` SET `provider_type` = 'azuread' WHERE `provider_type` = 'entraid';
