-- SQLite: events are numbered in the order of (created, event_uuid), the
-- order the lists serve (seq, the rowid), and the filter indexes key on
-- their column alone: SQLite appends the rowid to every index entry, so
-- that an index on action alone walks one action's events in seq order.
-- Keyed on (column, created, event_uuid), each entry carried 70 bytes more
-- and the eight of them were two thirds of an event's insert (69 -> 48 µs
-- per event in 20-event transactions, store benchmark). The store keeps
-- created increasing with seq (writeEvents); this migration renumbers the
-- events already stored in that order. PostgreSQL is unchanged.

-- +goose Up
CREATE TABLE `events_by_seq` (
  `seq` integer PRIMARY KEY,
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
  `brand_name` text NOT NULL
);
INSERT INTO `events_by_seq` (`event_uuid`, `user_pk`, `username`, `user`, `action`, `app`, `context`, `client_ip`, `created`,
    `expires`, `brand`, `model_app`, `model_name`, `model_pk`, `authorized_app`, `brand_name`)
  SELECT `event_uuid`, `user_pk`, `username`, `user`, `action`, `app`, `context`, `client_ip`, `created`,
    `expires`, `brand`, `model_app`, `model_name`, `model_pk`, `authorized_app`, `brand_name`
  FROM `events` ORDER BY `created`, `event_uuid`;
-- (DROP TABLE fires no trigger: event_counts keeps its counts.)
DROP TABLE `events`;
ALTER TABLE `events_by_seq` RENAME TO `events`;
CREATE UNIQUE INDEX `idx_events_uuid` ON `events`(`event_uuid`);
CREATE INDEX `idx_events_created` ON `events`(`created`);
CREATE INDEX `idx_events_user` ON `events`(`user_pk`);
CREATE INDEX `idx_events_action` ON `events`(`action`);
CREATE INDEX `idx_events_username` ON `events`(`username`);
CREATE INDEX `idx_events_model_pk` ON `events`(`model_pk`);
CREATE INDEX `idx_events_client_ip` ON `events`(`client_ip`);
CREATE INDEX `idx_events_model_name` ON `events`(`model_name`);
CREATE INDEX `idx_events_model_app` ON `events`(`model_app`);
CREATE INDEX `idx_events_expires` ON `events`(`expires`);
-- +goose StatementBegin
CREATE TRIGGER `events_count_delete` AFTER DELETE ON `events` BEGIN
  UPDATE `event_counts` SET `n` = `n` - 1
    WHERE `shard` = 0 AND `scope` IN ('', 'a:' || OLD.`action`, 'u:' || coalesce(OLD.`user_pk`, ''),
      CASE WHEN OLD.`model_name` <> '' THEN 'm:' || OLD.`model_app` || '.' || OLD.`model_name` END);
END;
-- +goose StatementEnd

-- +goose Down
CREATE TABLE `events_by_uuid` (
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
INSERT INTO `events_by_uuid` SELECT `event_uuid`, `user_pk`, `username`, `user`, `action`, `app`, `context`, `client_ip`,
    `created`, `expires`, `brand`, `model_app`, `model_name`, `model_pk`, `authorized_app`, `brand_name`
  FROM `events` ORDER BY `seq`;
DROP TABLE `events`;
ALTER TABLE `events_by_uuid` RENAME TO `events`;
CREATE INDEX `idx_events_created` ON `events`(`created`, `event_uuid`);
CREATE INDEX `idx_events_user` ON `events`(`user_pk`, `created`, `event_uuid`);
CREATE INDEX `idx_events_action` ON `events`(`action`, `created`, `event_uuid`);
CREATE INDEX `idx_events_username` ON `events`(`username`, `created`, `event_uuid`);
CREATE INDEX `idx_events_model_pk` ON `events`(`model_pk`, `created`, `event_uuid`);
CREATE INDEX `idx_events_client_ip` ON `events`(`client_ip`, `created`, `event_uuid`);
CREATE INDEX `idx_events_model_name` ON `events`(`model_name`, `created`, `event_uuid`);
CREATE INDEX `idx_events_model_app` ON `events`(`model_app`, `created`, `event_uuid`);
CREATE INDEX `idx_events_expires` ON `events`(`expires`);
-- +goose StatementBegin
CREATE TRIGGER `events_count_delete` AFTER DELETE ON `events` BEGIN
  UPDATE `event_counts` SET `n` = `n` - 1
    WHERE `shard` = 0 AND `scope` IN ('', 'a:' || OLD.`action`, 'u:' || coalesce(OLD.`user_pk`, ''),
      CASE WHEN OLD.`model_name` <> '' THEN 'm:' || OLD.`model_app` || '.' || OLD.`model_name` END);
END;
-- +goose StatementEnd
