-- Cron. A job created for a schedule carries it (cron: the expression as written; NULL
-- for every other job), and at most one instance of a cron class waits for its next
-- occurrence (never started yet: a run retried or requeued is not waiting for one):
-- workers racing to create one cannot both succeed.
ALTER TABLE rocketjob_jobs ADD COLUMN cron text;
CREATE UNIQUE INDEX rocketjob_jobs_cron_pending ON rocketjob_jobs (class_name)
    WHERE cron IS NOT NULL AND state IN ('queued', 'paused') AND started_at IS NULL;

-- Each cron class's schedule as its code last said (workers write it when they start),
-- and how its latest run went, for Mission Control's Cron page.
CREATE TABLE rocketjob_cron (
    class_name text PRIMARY KEY,
    cron text NOT NULL,
    timezone text NOT NULL,
    updated_at text NOT NULL,
    last_job_id integer,
    last_started_at text,
    -- running, completed or failed
    last_outcome text,
    last_finished_at text
);
