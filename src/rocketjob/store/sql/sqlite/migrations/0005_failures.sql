-- Mission Control's Failures view groups failed jobs by job class and exception class, and
-- its lists and bulk actions page through one group newest first. Only failed jobs are in
-- this index; queries name the same expression, json_extract(exception, '$.class_name').

CREATE INDEX rocketjob_jobs_failures ON rocketjob_jobs
    (class_name, json_extract(exception, '$.class_name'), id) WHERE state = 'failed';
