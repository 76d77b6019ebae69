-- The enqueued flag cost a second commit per submission and told nothing the reconcile
-- does not already find out: an open row whose BullMQ job is missing is (re-)enqueued,
-- whether it was never handed over (a crash between the two) or Redis lost it.
DROP INDEX jobs_enqueued;
ALTER TABLE jobs DROP COLUMN enqueued;
