-- Throttles (see behaviours/throttle.py). A throttled class's jobs carry their throttle's
-- name; the claim's index leaves them out, so the ordinary claim never reads past a class
-- at its limit. Throttled jobs wait in an index of their own, per throttle in claim order,
-- and a second one, as small as the running jobs, counts a throttle's running jobs.
ALTER TABLE rocketjob_jobs ADD COLUMN throttle text;
DROP INDEX rocketjob_jobs_claim;
CREATE INDEX rocketjob_jobs_claim ON rocketjob_jobs (priority, run_at NULLS FIRST, id)
    WHERE state = 'queued' AND throttle IS NULL;
CREATE INDEX rocketjob_jobs_throttled ON rocketjob_jobs (throttle, priority, run_at NULLS FIRST, id)
    WHERE state = 'queued' AND throttle IS NOT NULL;
CREATE INDEX rocketjob_jobs_throttle_running ON rocketjob_jobs (throttle)
    WHERE state = 'running' AND throttle IS NOT NULL;

-- One row per throttle: claimers of a throttle lock it, to take turns counting.
CREATE TABLE rocketjob_throttles (name text PRIMARY KEY);
