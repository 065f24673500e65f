-- SQLite: events are counted by the store as it inserts them (tallyEvents),
-- no longer by a trigger: any AFTER INSERT trigger on events made an
-- insert cost more than twice as much. Removals are still counted by the
-- events_count_delete trigger.

-- +goose Up
DROP TRIGGER `events_count_insert`;

-- +goose Down
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
