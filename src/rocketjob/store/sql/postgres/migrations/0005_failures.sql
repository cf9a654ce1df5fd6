-- Mission Control's Failures page groups failed jobs by job class and exception class, and
-- its lists and bulk actions page through one group newest first. The exception's class
-- gets a column of its own (written with the exception), so the index below answers the
-- grouping alone (an index-only scan: completed_at rides along for the time windows),
-- and the planner has statistics on it.
-- Only failed jobs are in the index: it is as small as the failures are many.

ALTER TABLE rocketjob_jobs ADD COLUMN exception_class text;

UPDATE rocketjob_jobs SET exception_class = exception->>'class_name'
WHERE exception IS NOT NULL;

CREATE INDEX rocketjob_jobs_failures ON rocketjob_jobs
    (class_name, exception_class, id, completed_at) WHERE state = 'failed';
