-- Running jobs leave the class index. A claim rewrites each job it takes (queued ->
-- running) and every index gets the new row version: the class index was a quarter of a
-- claim's index work, for the one state whose jobs are few (bounded by worker threads)
-- and are found through the state index anyway. Queries by class read running jobs in a
-- branch of their own.
DROP INDEX rocketjob_jobs_class;
CREATE INDEX rocketjob_jobs_class ON rocketjob_jobs (class_name, id) WHERE state <> 'running';
