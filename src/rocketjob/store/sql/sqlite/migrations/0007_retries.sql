-- Automatic retries: how many a job has used since it was created or an operator retried
-- it.
ALTER TABLE rocketjob_jobs ADD COLUMN attempt integer NOT NULL DEFAULT 0;
