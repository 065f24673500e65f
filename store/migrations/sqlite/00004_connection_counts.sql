-- Exact connection counts without scanning: connection_counts holds the
-- number of connections in all (scope '') and per source (scope = the
-- source's id), kept by triggers in the same transaction as every insert,
-- delete and move between sources (cascades included). An unfiltered list
-- and a list of one source read their count here instead of counting a
-- million rows. SQLite has one writer at a time, so one row per scope
-- (shard 0) serves; PostgreSQL spreads each scope over 16 shards.

-- +goose Up
CREATE TABLE `connection_counts` (
  `scope` text NOT NULL,
  `shard` integer NOT NULL,
  `n` integer NOT NULL,
  PRIMARY KEY (`scope`, `shard`)
);
INSERT INTO `connection_counts` (`scope`, `shard`, `n`) SELECT '', 0, COUNT(*) FROM `connections`;
INSERT INTO `connection_counts` (`scope`, `shard`, `n`) SELECT `source_id`, 0, COUNT(*) FROM `connections` GROUP BY `source_id`;

-- +goose StatementBegin
CREATE TRIGGER `connections_count_insert` AFTER INSERT ON `connections` BEGIN
  INSERT INTO `connection_counts` (`scope`, `shard`, `n`) VALUES ('', 0, 1), (NEW.`source_id`, 0, 1)
    ON CONFLICT (`scope`, `shard`) DO UPDATE SET `n` = `n` + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `connections_count_delete` AFTER DELETE ON `connections` BEGIN
  UPDATE `connection_counts` SET `n` = `n` - 1 WHERE `shard` = 0 AND `scope` IN ('', OLD.`source_id`);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `connections_count_move` AFTER UPDATE OF `source_id` ON `connections`
WHEN OLD.`source_id` <> NEW.`source_id` BEGIN
  UPDATE `connection_counts` SET `n` = `n` - 1 WHERE `shard` = 0 AND `scope` = OLD.`source_id`;
  INSERT INTO `connection_counts` (`scope`, `shard`, `n`) VALUES (NEW.`source_id`, 0, 1)
    ON CONFLICT (`scope`, `shard`) DO UPDATE SET `n` = `n` + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `oauth_sources_count_delete` AFTER DELETE ON `oauth_sources` BEGIN
  DELETE FROM `connection_counts` WHERE `scope` = OLD.`id`;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER `oauth_sources_count_delete`;
DROP TRIGGER `connections_count_move`;
DROP TRIGGER `connections_count_delete`;
DROP TRIGGER `connections_count_insert`;
DROP TABLE `connection_counts`;
