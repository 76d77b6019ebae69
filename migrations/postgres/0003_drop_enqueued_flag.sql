-- As sqlite/0003: the reconcile finds never-enqueued rows without a flag.
DROP INDEX jobs_enqueued;
ALTER TABLE jobs DROP COLUMN enqueued;
