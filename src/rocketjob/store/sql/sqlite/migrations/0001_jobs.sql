-- Jobs, their counts per state, and the record of applied migrations.
-- Times are UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' (fixed width, so text order is time order).

CREATE TABLE IF NOT EXISTS rocketjob_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at text NOT NULL
);

CREATE TABLE rocketjob_jobs (
    -- AUTOINCREMENT: ids are never reused, even after the newest job is destroyed
    id integer PRIMARY KEY AUTOINCREMENT,
    class_name text NOT NULL,
    description text,
    priority integer NOT NULL DEFAULT 50 CHECK (priority BETWEEN 1 AND 100),
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'completed', 'paused', 'failed', 'aborted')),
    sub_state text CHECK (sub_state IN ('before', 'processing', 'after')),
    run_at text,
    expires_at text,
    destroy_on_complete integer NOT NULL DEFAULT 1,
    created_at text NOT NULL,
    started_at text,
    completed_at text,
    failure_count integer NOT NULL DEFAULT 0,
    worker_name text,
    -- fencing token: bumped by every claim; a worker writes only while it holds the latest one
    lease integer NOT NULL DEFAULT 0,
    -- optimistic-concurrency guard for operator transitions
    version integer NOT NULL DEFAULT 0,
    percent_complete integer NOT NULL DEFAULT 0,
    exception text,
    fields text NOT NULL DEFAULT '{}',
    history text NOT NULL DEFAULT '[]'
);

-- The claim order (priority, run_at, id) over the only state claims read.
CREATE INDEX rocketjob_jobs_claim ON rocketjob_jobs (priority, run_at, id)
    WHERE state = 'queued';
CREATE INDEX rocketjob_jobs_state ON rocketjob_jobs (state, id);
CREATE INDEX rocketjob_jobs_class ON rocketjob_jobs (class_name, id);
CREATE INDEX rocketjob_jobs_scheduled ON rocketjob_jobs (run_at, id)
    WHERE state = 'queued' AND run_at IS NOT NULL;

-- Counts per state without scanning the jobs, kept by triggers. SQLite has one writer at
-- a time, so a counter row per bucket costs no contention here.
CREATE TABLE rocketjob_job_counts (
    bucket text PRIMARY KEY,
    n integer NOT NULL
);
INSERT INTO rocketjob_job_counts (bucket, n) VALUES
    ('queued', 0), ('queued_with_run_at', 0), ('running', 0), ('completed', 0),
    ('paused', 0), ('failed', 0), ('aborted', 0);

CREATE TRIGGER rocketjob_jobs_counted_insert AFTER INSERT ON rocketjob_jobs BEGIN
    UPDATE rocketjob_job_counts SET n = n + 1
    WHERE bucket = CASE WHEN NEW.state = 'queued' AND NEW.run_at IS NOT NULL
                        THEN 'queued_with_run_at' ELSE NEW.state END;
END;

CREATE TRIGGER rocketjob_jobs_counted_delete AFTER DELETE ON rocketjob_jobs BEGIN
    UPDATE rocketjob_job_counts SET n = n - 1
    WHERE bucket = CASE WHEN OLD.state = 'queued' AND OLD.run_at IS NOT NULL
                        THEN 'queued_with_run_at' ELSE OLD.state END;
END;

CREATE TRIGGER rocketjob_jobs_counted_update AFTER UPDATE OF state, run_at ON rocketjob_jobs
WHEN (CASE WHEN OLD.state = 'queued' AND OLD.run_at IS NOT NULL
           THEN 'queued_with_run_at' ELSE OLD.state END)
  <> (CASE WHEN NEW.state = 'queued' AND NEW.run_at IS NOT NULL
           THEN 'queued_with_run_at' ELSE NEW.state END)
BEGIN
    UPDATE rocketjob_job_counts SET n = n - 1
    WHERE bucket = CASE WHEN OLD.state = 'queued' AND OLD.run_at IS NOT NULL
                        THEN 'queued_with_run_at' ELSE OLD.state END;
    UPDATE rocketjob_job_counts SET n = n + 1
    WHERE bucket = CASE WHEN NEW.state = 'queued' AND NEW.run_at IS NOT NULL
                        THEN 'queued_with_run_at' ELSE NEW.state END;
END;
