-- The audit trail, served as authentik's events API. An event is written
-- in the transaction of the change it records. The JSON fields are kept
-- as written (user, context, brand); what the filters and the scope of
-- ordinary users need is copied out into indexed columns. event_counts
-- keeps exact counts (all, per user, per action, per model) for the lists.

-- +goose Up
CREATE TABLE `events` (
  `event_uuid` text NOT NULL,
  `user_pk` integer,
  `username` text NOT NULL,
  `user` text NOT NULL,
  `action` text NOT NULL,
  `app` text NOT NULL,
  `context` text NOT NULL,
  `client_ip` text,
  `created` datetime NOT NULL,
  `expires` datetime NOT NULL,
  `brand` text NOT NULL,
  `model_app` text NOT NULL,
  `model_name` text NOT NULL,
  `model_pk` text NOT NULL,
  `authorized_app` text NOT NULL,
  `brand_name` text NOT NULL,
  PRIMARY KEY (`event_uuid`)
);
CREATE INDEX `idx_events_created` ON `events`(`created`, `event_uuid`);
CREATE INDEX `idx_events_user` ON `events`(`user_pk`, `created`, `event_uuid`);
CREATE INDEX `idx_events_action` ON `events`(`action`, `created`, `event_uuid`);
CREATE INDEX `idx_events_username` ON `events`(`username`, `created`, `event_uuid`);
CREATE INDEX `idx_events_model_pk` ON `events`(`model_pk`, `created`, `event_uuid`);
CREATE INDEX `idx_events_client_ip` ON `events`(`client_ip`, `created`, `event_uuid`);
CREATE INDEX `idx_events_model_name` ON `events`(`model_name`, `created`, `event_uuid`);
CREATE INDEX `idx_events_model_app` ON `events`(`model_app`, `created`, `event_uuid`);
CREATE INDEX `idx_events_expires` ON `events`(`expires`);

CREATE TABLE `event_counts` (
  `scope` text NOT NULL,
  `shard` integer NOT NULL,
  `n` integer NOT NULL,
  PRIMARY KEY (`scope`, `shard`)
);
-- +goose StatementBegin
CREATE TRIGGER `events_count_insert` AFTER INSERT ON `events` BEGIN
  INSERT INTO `event_counts` (`scope`, `shard`, `n`)
    SELECT `s`, 0, 1 FROM (
      SELECT '' AS `s`
      UNION ALL SELECT 'a:' || NEW.`action`
      UNION ALL SELECT 'u:' || NEW.`user_pk` WHERE NEW.`user_pk` IS NOT NULL
      UNION ALL SELECT 'm:' || NEW.`model_app` || '.' || NEW.`model_name` WHERE NEW.`model_name` <> '')
    WHERE true -- (an upsert after a SELECT needs a WHERE, SQLite's parsing rule)
    ON CONFLICT (`scope`, `shard`) DO UPDATE SET `n` = `n` + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `events_count_delete` AFTER DELETE ON `events` BEGIN
  UPDATE `event_counts` SET `n` = `n` - 1
    WHERE `shard` = 0 AND `scope` IN ('', 'a:' || OLD.`action`, 'u:' || coalesce(OLD.`user_pk`, ''),
      CASE WHEN OLD.`model_name` <> '' THEN 'm:' || OLD.`model_app` || '.' || OLD.`model_name` END);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER `events_count_delete`;
DROP TRIGGER `events_count_insert`;
DROP TABLE `event_counts`;
DROP TABLE `events`;
