-- Singletons: a job of a singleton class carries its slot (the class name, or class name
-- and key); at most one queued, running or paused job holds a slot. The state is in the
-- index's predicate, so every transition keeps it right: a job that completes, fails or
-- is aborted leaves it, a retried one must take it again, a destroyed one is gone.
ALTER TABLE rocketjob_jobs ADD COLUMN singleton_key text;
CREATE UNIQUE INDEX rocketjob_jobs_singleton ON rocketjob_jobs (singleton_key)
    WHERE singleton_key IS NOT NULL AND state IN ('queued', 'running', 'paused');

-- Dependencies: waiting_on counts the prerequisites not yet done. A waiting job is left
-- out of both claim indexes (plain and throttled), so claims never read it; linked marks
-- the few jobs that have edges, so completing any other job costs nothing more.
ALTER TABLE rocketjob_jobs ADD COLUMN waiting_on integer NOT NULL DEFAULT 0;
ALTER TABLE rocketjob_jobs ADD COLUMN linked boolean NOT NULL DEFAULT false;
DROP INDEX rocketjob_jobs_claim;
CREATE INDEX rocketjob_jobs_claim ON rocketjob_jobs (priority, run_at NULLS FIRST, id)
    WHERE state = 'queued' AND throttle IS NULL AND waiting_on = 0;
DROP INDEX rocketjob_jobs_throttled;
CREATE INDEX rocketjob_jobs_throttled ON rocketjob_jobs (throttle, priority, run_at NULLS FIRST, id)
    WHERE state = 'queued' AND throttle IS NOT NULL AND waiting_on = 0;

-- One row per edge: job_id waits on depends_on_id. Kept (done) once the prerequisite
-- completed or was destroyed, so the job page can show both neighbours; deleted with
-- the waiting job. No foreign keys: a cascade would cost every job deletion a trigger.
CREATE TABLE rocketjob_dependencies (
    job_id bigint NOT NULL,
    depends_on_id bigint NOT NULL,
    done boolean NOT NULL DEFAULT false,
    PRIMARY KEY (job_id, depends_on_id)
);
CREATE INDEX rocketjob_dependencies_prerequisite
    ON rocketjob_dependencies (depends_on_id, job_id);
