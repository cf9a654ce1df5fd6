-- Every query rocketjob runs on PostgreSQL, each under a `-- name:` header.
-- Parameters are psycopg's %(name)s; times come from the caller's clock.

-- name: insert_job
-- NOTIFY (delivered at commit) wakes idle workers at once; they poll anyway.
WITH inserted AS (
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields)
VALUES (%(class_name)s, %(description)s, %(priority)s, %(run_at)s, %(expires_at)s,
        %(destroy_on_complete)s, %(created_at)s, %(fields)s::jsonb)
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count,
          worker_name, lease, version, percent_complete, exception, fields
)
SELECT inserted.*, pg_notify('rocketjob_jobs', '') FROM inserted;

-- name: insert_jobs
-- One statement for a whole chunk, the rows as one JSON array (parsed in C on both
-- ends): [description, priority, run_at, expires_at, destroy_on_complete, fields] each.
-- Ids come back in input order.
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields)
SELECT %(class_name)s, row->>0, (row->>1)::smallint, (row->>2)::timestamptz,
       (row->>3)::timestamptz, (row->>4)::boolean, %(created_at)s, row->5
FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS given(row, n)
ORDER BY n
RETURNING id;

-- name: select_job
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs WHERE id = %(id)s;

-- name: select_history
SELECT history FROM rocketjob_jobs WHERE id = %(id)s;

-- name: transition
-- An operator's action: applies only if nobody changed the job since it was read.
UPDATE rocketjob_jobs SET
    state = %(state)s,
    sub_state = %(sub_state)s,
    run_at = %(run_at)s,
    started_at = %(started_at)s,
    completed_at = %(completed_at)s,
    failure_count = %(failure_count)s,
    worker_name = %(worker_name)s,
    exception = %(exception)s::jsonb,
    percent_complete = COALESCE(%(percent_complete)s, percent_complete),
    version = version + 1,
    history = history || %(entry)s::jsonb
WHERE id = %(id)s AND version = %(version)s
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count,
          worker_name, lease, version, percent_complete, exception, fields;

-- name: delete_job
DELETE FROM rocketjob_jobs WHERE id = %(id)s AND version = %(version)s;

-- name: list_jobs
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs
WHERE id < %(before_id)s
ORDER BY id DESC LIMIT %(limit)s;

-- name: list_jobs_of_class
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs
WHERE class_name = %(class_name)s AND id < %(before_id)s
ORDER BY id DESC LIMIT %(limit)s;

-- name: list_jobs_in_state
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs
WHERE state = %(state)s AND id < %(before_id)s
  AND (%(class_name)s::text IS NULL OR class_name = %(class_name)s)
ORDER BY id DESC LIMIT %(limit)s;

-- name: list_jobs_due
-- Queued jobs that may run now (run_at empty or past).
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs
WHERE state = 'queued' AND (run_at IS NULL OR run_at <= %(now)s) AND id < %(before_id)s
  AND (%(class_name)s::text IS NULL OR class_name = %(class_name)s)
ORDER BY id DESC LIMIT %(limit)s;

-- name: list_jobs_scheduled
-- Queued jobs waiting for run_at, the soonest first.
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs
WHERE state = 'queued' AND run_at IS NOT NULL AND run_at > %(now)s
  AND (run_at, id) > (%(after_run_at)s, %(after_id)s)
  AND (%(class_name)s::text IS NULL OR class_name = %(class_name)s)
ORDER BY run_at, id LIMIT %(limit)s;

-- name: count_buckets
SELECT bucket, sum(n)::bigint AS n, count(*) AS deltas FROM rocketjob_job_counts GROUP BY bucket;

-- name: count_due_with_run_at
SELECT count(*) AS n FROM rocketjob_jobs
WHERE state = 'queued' AND run_at IS NOT NULL AND run_at <= %(now)s;

-- name: compact_job_counts
-- Folds the delta rows into one per bucket. Safe beside writers: it deletes only rows
-- that existed when it started, and re-inserts their sum in the same statement.
WITH folded AS (DELETE FROM rocketjob_job_counts RETURNING bucket, n)
INSERT INTO rocketjob_job_counts (bucket, n)
SELECT bucket, sum(n) FROM folded GROUP BY bucket;

-- name: claim_jobs
-- Take up to `limit` due jobs in claim order; rows other workers hold are skipped.
WITH next AS (
    SELECT id FROM rocketjob_jobs
    WHERE state = 'queued' AND (run_at IS NULL OR run_at <= %(now)s)
      AND (%(include)s::text IS NULL OR class_name ~ %(include)s)
      AND (%(exclude)s::text IS NULL OR class_name !~ %(exclude)s)
    ORDER BY priority, run_at NULLS FIRST, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE rocketjob_jobs AS job SET
    state = 'running',
    started_at = %(now)s,
    completed_at = NULL,
    worker_name = %(worker_name)s,
    lease = job.lease + 1,
    version = job.version + 1,
    history = job.history || jsonb_build_array(jsonb_build_object(
        'at', %(now)s::timestamptz, 'from', 'queued', 'to', 'running',
        'action', 'start', 'by', %(worker_name)s::text))
FROM next WHERE job.id = next.id
RETURNING job.id, job.class_name, job.description, job.priority, job.state, job.sub_state,
          job.run_at, job.expires_at, job.destroy_on_complete, job.created_at,
          job.started_at, job.completed_at, job.failure_count, job.worker_name, job.lease,
          job.version, job.percent_complete, job.exception, job.fields;

-- name: claim_job
-- Take one given queued job (perform_now).
UPDATE rocketjob_jobs SET
    state = 'running',
    started_at = %(now)s,
    completed_at = NULL,
    worker_name = %(worker_name)s,
    lease = lease + 1,
    version = version + 1,
    history = history || jsonb_build_array(jsonb_build_object(
        'at', %(now)s::timestamptz, 'from', 'queued', 'to', 'running',
        'action', 'start', 'by', %(worker_name)s::text))
WHERE id = %(id)s AND state = 'queued'
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count,
          worker_name, lease, version, percent_complete, exception, fields;

-- name: destroy_completed_jobs
-- Completion of jobs that keep nothing: only rows still running under the caller's lease.
DELETE FROM rocketjob_jobs AS job
USING unnest(%(ids)s::bigint[], %(leases)s::bigint[]) AS done(id, lease)
WHERE job.id = done.id AND job.lease = done.lease AND job.state = 'running';

-- name: complete_jobs
UPDATE rocketjob_jobs AS job SET
    state = 'completed',
    sub_state = NULL,
    completed_at = %(now)s,
    percent_complete = 100,
    version = job.version + 1,
    history = job.history || jsonb_build_array(jsonb_build_object(
        'at', %(now)s::timestamptz, 'from', 'running', 'to', 'completed',
        'action', 'complete', 'by', %(worker_name)s::text))
FROM unnest(%(ids)s::bigint[], %(leases)s::bigint[]) AS done(id, lease)
WHERE job.id = done.id AND job.lease = done.lease AND job.state = 'running';

-- name: fail_claimed_job
UPDATE rocketjob_jobs SET
    state = 'failed',
    completed_at = %(now)s,
    failure_count = failure_count + 1,
    exception = %(exception)s::jsonb,
    version = version + 1,
    history = history || jsonb_build_array(jsonb_build_object(
        'at', %(now)s::timestamptz, 'from', 'running', 'to', 'failed',
        'action', 'fail', 'by', %(worker_name)s::text, 'message', %(message)s::text))
WHERE id = %(id)s AND lease = %(lease)s AND state = 'running';

-- name: record_progress
-- Progress of a claimed job; the state it returns tells the worker whether to go on.
UPDATE rocketjob_jobs SET percent_complete = %(percent_complete)s
WHERE id = %(id)s AND lease = %(lease)s AND state = 'running'
RETURNING state;

-- name: claimed_state
SELECT state FROM rocketjob_jobs WHERE id = %(id)s AND lease = %(lease)s;

-- name: register_worker
INSERT INTO rocketjob_workers (name, host, pid, state, desired_state, threads, started_at,
                               heartbeat_at)
VALUES (%(name)s, %(host)s, %(pid)s, 'starting', NULL, %(threads)s, %(now)s, %(now)s)
ON CONFLICT (name) DO UPDATE SET
    host = excluded.host, pid = excluded.pid, state = 'starting', desired_state = NULL,
    threads = excluded.threads, started_at = excluded.started_at,
    heartbeat_at = excluded.heartbeat_at;

-- name: heartbeat
-- The worker reports its state and learns what operators asked of it.
UPDATE rocketjob_workers SET state = %(state)s, heartbeat_at = %(now)s
WHERE name = %(name)s
RETURNING desired_state;

-- name: deregister_worker
DELETE FROM rocketjob_workers WHERE name = %(name)s;

-- name: list_workers
SELECT name, host, pid, state, desired_state, threads, started_at, heartbeat_at
FROM rocketjob_workers ORDER BY name;

-- name: running_jobs_of_workers
SELECT id, class_name, description, started_at, percent_complete, worker_name
FROM rocketjob_jobs
WHERE state = 'running' AND worker_name = ANY(%(names)s::text[])
ORDER BY started_at, id;

-- name: set_desired_state
-- NOTIFY wakes the workers at once; they poll their row anyway.
WITH asked AS (
    UPDATE rocketjob_workers SET desired_state = %(desired_state)s
    WHERE %(name)s::text IS NULL OR name = %(name)s
    RETURNING name
)
SELECT name, pg_notify('rocketjob_control', name) FROM asked;

-- name: requeue_jobs_of_dead_workers
-- Running jobs whose worker stopped heartbeating (or never had a row) go back to the queue.
-- Jobs run inline by perform_now() belong to no worker and are left alone.
UPDATE rocketjob_jobs AS job SET
    state = 'queued',
    worker_name = NULL,
    version = job.version + 1,
    history = job.history || jsonb_build_array(jsonb_build_object(
        'at', %(now)s::timestamptz, 'from', 'running', 'to', 'queued', 'action', 'requeue',
        'by', %(by)s::text,
        'message', 'worker ' || coalesce(job.worker_name, '?') || ' stopped heartbeating'))
WHERE job.state = 'running'
  AND job.started_at < %(cutoff)s
  AND job.worker_name NOT LIKE 'inline:%%'
  AND NOT EXISTS (
      SELECT 1 FROM rocketjob_workers AS w
      WHERE w.name = job.worker_name AND w.heartbeat_at >= %(cutoff)s)
RETURNING job.id, job.class_name;

-- name: delete_dead_workers
DELETE FROM rocketjob_workers WHERE heartbeat_at < %(cutoff)s
RETURNING name;

-- name: notify_jobs
-- Jobs became claimable: wake idle workers (delivered at commit).
SELECT pg_notify('rocketjob_jobs', '');

-- name: hand_back_jobs
-- A stopping worker returns jobs it holds to the queue; only rows it still holds.
UPDATE rocketjob_jobs AS job SET
    state = 'queued',
    worker_name = NULL,
    version = job.version + 1,
    history = job.history || jsonb_build_array(jsonb_build_object(
        'at', %(now)s::timestamptz, 'from', 'running', 'to', 'queued', 'action', 'requeue',
        'by', %(worker_name)s::text, 'message', %(reason)s::text))
FROM unnest(%(ids)s::bigint[], %(leases)s::bigint[]) AS held(id, lease)
WHERE job.id = held.id AND job.lease = held.lease AND job.state = 'running';

-- name: list_class_names
-- The distinct class names, one index probe each (a loose index scan).
WITH RECURSIVE classes(class_name) AS (
    (SELECT class_name FROM rocketjob_jobs ORDER BY class_name LIMIT 1)
    UNION ALL
    SELECT (SELECT job.class_name FROM rocketjob_jobs AS job
            WHERE job.class_name > classes.class_name
            ORDER BY job.class_name LIMIT 1)
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
WHERE id < %(before_id)s
  AND (class_name = ANY(%(classes)s::text[]) OR description ILIKE %(pattern)s ESCAPE '\')
ORDER BY id DESC LIMIT %(limit)s;

-- name: search_jobs_in_state
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs
WHERE state = %(state)s AND id < %(before_id)s
  AND (class_name = ANY(%(classes)s::text[]) OR description ILIKE %(pattern)s ESCAPE '\')
ORDER BY id DESC LIMIT %(limit)s;

-- name: search_jobs_due
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs
WHERE state = 'queued' AND (run_at IS NULL OR run_at <= %(now)s) AND id < %(before_id)s
  AND (class_name = ANY(%(classes)s::text[]) OR description ILIKE %(pattern)s ESCAPE '\')
ORDER BY id DESC LIMIT %(limit)s;

-- name: search_jobs_scheduled
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, worker_name,
       lease, version, percent_complete, exception, fields
FROM rocketjob_jobs
WHERE state = 'queued' AND run_at IS NOT NULL AND run_at > %(now)s
  AND (run_at, id) > (%(after_run_at)s, %(after_id)s)
  AND (class_name = ANY(%(classes)s::text[]) OR description ILIKE %(pattern)s ESCAPE '\')
ORDER BY run_at, id LIMIT %(limit)s;
