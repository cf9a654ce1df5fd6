-- A batch job is stored with sub_state 'before' from its creation, so any process knows it
-- for one (and aborts or retries its slices) without importing its class. Batch jobs
-- created before this waited in the queue with no sub_state; those with an upload say so
-- now.
UPDATE rocketjob_jobs SET sub_state = 'before'
WHERE sub_state IS NULL AND state IN ('queued', 'paused', 'failed', 'aborted')
  AND EXISTS (SELECT 1 FROM rocketjob_batches AS b WHERE b.job_id = rocketjob_jobs.id);
