-- Every query rocketjob runs on SQLite, each under a `-- name:` header.
-- Parameters are :name; times are UTC text from the caller's clock; JSON is text.

-- name: insert_job
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields)
VALUES (:class_name, :description, :priority, :run_at, :expires_at,
        :destroy_on_complete, :created_at, :fields)
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count,
          worker_name, lease, version, percent_complete, exception, fields;

-- name: insert_jobs
-- Run once per row inside one transaction (executemany).
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields)
VALUES (:class_name, :description, :priority, :run_at, :expires_at,
        :destroy_on_complete, :created_at, :fields);

-- name: last_job_id
SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'rocketjob_jobs'), 0) AS id;

-- name: select_job
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs WHERE id = :id;

-- name: select_history
SELECT history FROM rocketjob_jobs WHERE id = :id;

-- name: transition
-- An operator's action: applies only if nobody changed the job since it was read.
UPDATE rocketjob_jobs SET
    state = :state,
    sub_state = :sub_state,
    run_at = :run_at,
    started_at = :started_at,
    completed_at = :completed_at,
    failure_count = :failure_count,
    worker_name = :worker_name,
    exception = :exception,
    percent_complete = coalesce(:percent_complete, percent_complete),
    version = version + 1,
    history = json_insert(history, '$[#]', json(:entry))
WHERE id = :id AND version = :version
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count,
          worker_name, lease, version, percent_complete, exception, fields;

-- name: delete_job
DELETE FROM rocketjob_jobs WHERE id = :id AND version = :version;

-- name: list_jobs
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs
WHERE id < :before_id
ORDER BY id DESC LIMIT :limit;

-- name: list_jobs_of_class
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs
WHERE class_name = :class_name AND id < :before_id
ORDER BY id DESC LIMIT :limit;

-- name: list_jobs_in_state
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
WHERE state = :state AND id < :before_id
  AND (:class_name IS NULL OR class_name = :class_name)
ORDER BY id DESC LIMIT :limit;

-- name: list_jobs_due
-- Queued jobs that may run now (run_at empty or past).
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
WHERE state = 'queued' AND (run_at IS NULL OR run_at <= :now) AND id < :before_id
  AND (:class_name IS NULL OR class_name = :class_name)
ORDER BY id DESC LIMIT :limit;

-- name: list_jobs_scheduled
-- Queued jobs waiting for run_at, the soonest first.
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_scheduled
WHERE state = 'queued' AND run_at IS NOT NULL AND run_at > :now
  AND (run_at, id) > (:after_run_at, :after_id)
  AND (:class_name IS NULL OR class_name = :class_name)
ORDER BY run_at, id LIMIT :limit;

-- name: count_buckets
SELECT bucket, n, 1 AS deltas FROM rocketjob_job_counts;

-- name: count_due_with_run_at
SELECT count(*) AS n FROM rocketjob_jobs INDEXED BY rocketjob_jobs_scheduled
WHERE state = 'queued' AND run_at IS NOT NULL AND run_at <= :now;

-- name: compact_job_counts
-- Counters are updated in place on SQLite: nothing to fold.
SELECT 1;

-- name: claim_jobs
-- Take up to `limit` due jobs in claim order. One statement, so one write lock.
UPDATE rocketjob_jobs SET
    state = 'running',
    started_at = :now,
    completed_at = NULL,
    worker_name = :worker_name,
    lease = lease + 1,
    version = version + 1,
    history = json_insert(history, '$[#]', json_object(
        'at', :now, 'from', 'queued', 'to', 'running', 'action', 'start', 'by', :worker_name))
WHERE id IN (
    SELECT id FROM rocketjob_jobs INDEXED BY rocketjob_jobs_claim
    WHERE state = 'queued' AND (run_at IS NULL OR run_at <= :now)
      AND (:include IS NULL OR class_name REGEXP :include)
      AND (:exclude IS NULL OR NOT class_name REGEXP :exclude)
    ORDER BY priority, run_at, id
    LIMIT :limit)
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count,
          worker_name, lease, version, percent_complete, exception, fields;

-- name: claim_job
-- Take one given queued job (perform_now).
UPDATE rocketjob_jobs SET
    state = 'running',
    started_at = :now,
    completed_at = NULL,
    worker_name = :worker_name,
    lease = lease + 1,
    version = version + 1,
    history = json_insert(history, '$[#]', json_object(
        'at', :now, 'from', 'queued', 'to', 'running', 'action', 'start', 'by', :worker_name))
WHERE id = :id AND state = 'queued'
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count,
          worker_name, lease, version, percent_complete, exception, fields;

-- name: destroy_completed_jobs
-- Completion of jobs that keep nothing: only rows still running under the caller's lease.
-- Run once per claim (executemany).
DELETE FROM rocketjob_jobs WHERE id = :id AND lease = :lease AND state = 'running';

-- name: complete_jobs
-- Run once per claim (executemany).
UPDATE rocketjob_jobs SET
    state = 'completed',
    sub_state = NULL,
    completed_at = :now,
    percent_complete = 100,
    version = version + 1,
    history = json_insert(history, '$[#]', json_object(
        'at', :now, 'from', 'running', 'to', 'completed', 'action', 'complete',
        'by', :worker_name))
WHERE id = :id AND lease = :lease AND state = 'running';

-- name: fail_claimed_job
UPDATE rocketjob_jobs SET
    state = 'failed',
    completed_at = :now,
    failure_count = failure_count + 1,
    exception = :exception,
    version = version + 1,
    history = json_insert(history, '$[#]', json_object(
        'at', :now, 'from', 'running', 'to', 'failed', 'action', 'fail', 'by', :worker_name,
        'message', :message))
WHERE id = :id AND lease = :lease AND state = 'running';

-- name: record_progress
-- Progress of a claimed job; the state it returns tells the worker whether to go on.
UPDATE rocketjob_jobs SET percent_complete = :percent_complete
WHERE id = :id AND lease = :lease AND state = 'running'
RETURNING state;

-- name: claimed_state
SELECT state FROM rocketjob_jobs WHERE id = :id AND lease = :lease;

-- name: register_worker
INSERT INTO rocketjob_workers (name, host, pid, state, desired_state, threads, started_at,
                               heartbeat_at)
VALUES (:name, :host, :pid, 'starting', NULL, :threads, :now, :now)
ON CONFLICT (name) DO UPDATE SET
    host = excluded.host, pid = excluded.pid, state = 'starting', desired_state = NULL,
    threads = excluded.threads, started_at = excluded.started_at,
    heartbeat_at = excluded.heartbeat_at;

-- name: heartbeat
-- The worker reports its state and learns what operators asked of it.
UPDATE rocketjob_workers SET state = :state, heartbeat_at = :now
WHERE name = :name
RETURNING desired_state;

-- name: deregister_worker
DELETE FROM rocketjob_workers WHERE name = :name;

-- name: list_workers
SELECT name, host, pid, state, desired_state, threads, started_at, heartbeat_at
FROM rocketjob_workers ORDER BY name;

-- name: running_jobs_of_workers
SELECT id, class_name, description, started_at, percent_complete, worker_name
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
WHERE state = 'running' AND worker_name IN (SELECT value FROM json_each(:names))
ORDER BY started_at, id;

-- name: set_desired_state
UPDATE rocketjob_workers SET desired_state = :desired_state
WHERE :name IS NULL OR name = :name
RETURNING name;

-- name: requeue_jobs_of_dead_workers
-- Running jobs whose worker stopped heartbeating (or never had a row) go back to the queue.
-- Jobs run inline by perform_now() belong to no worker and are left alone.
UPDATE rocketjob_jobs SET
    state = 'queued',
    worker_name = NULL,
    version = version + 1,
    history = json_insert(history, '$[#]', json_object(
        'at', :now, 'from', 'running', 'to', 'queued', 'action', 'requeue', 'by', :by,
        'message', 'worker ' || coalesce(worker_name, '?') || ' stopped heartbeating'))
WHERE state = 'running'
  AND started_at < :cutoff
  AND worker_name NOT LIKE 'inline:%'
  AND NOT EXISTS (
      SELECT 1 FROM rocketjob_workers AS w
      WHERE w.name = rocketjob_jobs.worker_name AND w.heartbeat_at >= :cutoff)
RETURNING id, class_name;

-- name: delete_dead_workers
DELETE FROM rocketjob_workers WHERE heartbeat_at < :cutoff
RETURNING name;

-- name: notify_jobs
-- No notifications on SQLite: workers poll.
SELECT 1;

-- name: hand_back_jobs
-- A stopping worker returns jobs it holds to the queue; only rows it still holds.
-- Run once per claim (executemany).
UPDATE rocketjob_jobs SET
    state = 'queued',
    worker_name = NULL,
    version = version + 1,
    history = json_insert(history, '$[#]', json_object(
        'at', :now, 'from', 'running', 'to', 'queued', 'action', 'requeue',
        'by', :worker_name, 'message', :reason))
WHERE id = :id AND lease = :lease AND state = 'running';

-- name: list_class_names
-- The distinct class names, one index probe each (a loose index scan).
WITH RECURSIVE classes(class_name) AS (
    SELECT min(class_name) FROM rocketjob_jobs
    UNION ALL
    SELECT (SELECT min(job.class_name) FROM rocketjob_jobs AS job
            WHERE job.class_name > classes.class_name)
    FROM classes WHERE classes.class_name IS NOT NULL
)
SELECT class_name FROM classes WHERE class_name IS NOT NULL;

-- name: search_jobs
-- Mission Control's search: jobs of the classes whose names contain the search text
-- (found first, by list_class_names) or whose description contains it.
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs
WHERE id < :before_id
  AND (class_name IN (SELECT value FROM json_each(:classes))
       OR description LIKE :pattern ESCAPE '\')
ORDER BY id DESC LIMIT :limit;

-- name: search_jobs_in_state
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
WHERE state = :state AND id < :before_id
  AND (class_name IN (SELECT value FROM json_each(:classes))
       OR description LIKE :pattern ESCAPE '\')
ORDER BY id DESC LIMIT :limit;

-- name: search_jobs_due
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
WHERE state = 'queued' AND (run_at IS NULL OR run_at <= :now) AND id < :before_id
  AND (class_name IN (SELECT value FROM json_each(:classes))
       OR description LIKE :pattern ESCAPE '\')
ORDER BY id DESC LIMIT :limit;

-- name: search_jobs_scheduled
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_scheduled
WHERE state = 'queued' AND run_at IS NOT NULL AND run_at > :now
  AND (run_at, id) > (:after_run_at, :after_id)
  AND (class_name IN (SELECT value FROM json_each(:classes))
       OR description LIKE :pattern ESCAPE '\')
ORDER BY run_at, id LIMIT :limit;
