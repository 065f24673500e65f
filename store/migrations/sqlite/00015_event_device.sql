-- authentik 2026.8's events filter context_device: an exact match on the
-- context's device.pk, copied out into device_pk as model_pk is (the
-- store fills it on every insert, Event.index): a UUID without its dashes,
-- an integer as its decimal text ('' when the context names no device).
-- Events already stored get theirs from their context; only those whose
-- context mentions a device are rewritten.

-- +goose Up
ALTER TABLE `events` ADD COLUMN `device_pk` text NOT NULL DEFAULT '';
UPDATE `events` SET `device_pk` = CASE json_type(`context`, '$.device.pk')
    WHEN 'text' THEN replace(json_extract(`context`, '$.device.pk'), '-', '')
    WHEN 'integer' THEN CAST(json_extract(`context`, '$.device.pk') AS TEXT)
    WHEN 'real' THEN CAST(CAST(json_extract(`context`, '$.device.pk') AS INTEGER) AS TEXT)
    ELSE '' END
  WHERE `context` LIKE '%"device"%' AND json_type(`context`, '$.device') = 'object';
CREATE INDEX `idx_events_device_pk` ON `events`(`device_pk`);

-- +goose Down
DROP INDEX `idx_events_device_pk`;
ALTER TABLE `events` DROP COLUMN `device_pk`;
