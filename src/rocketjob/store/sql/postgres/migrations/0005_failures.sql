-- Mission Control's Failures view groups failed jobs by job class and exception class, and
-- its lists and bulk actions page through one group newest first. Only failed jobs are in
-- this index, so it stays as small as the failures are many.

CREATE INDEX rocketjob_jobs_failures ON rocketjob_jobs
    (class_name, (exception->>'class_name'), id) WHERE state = 'failed';
