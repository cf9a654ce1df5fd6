-- Every query rocketjob runs on PostgreSQL, each under a `-- name:` header.
-- Parameters are psycopg's %(name)s; times come from the caller's clock, which keeps to
-- the server's (see store/clock.py).

-- name: insert_job
-- One job, handed straight to an idle worker when one offers a slot for it (see
-- migration 0008): the job is inserted already claimed (lease 1), this commit makes the
-- claim durable, and the notice carries the row to the worker (or, past NOTIFY's 8000
-- bytes, its id and the worker's name: the worker reads the row). With no
-- taker the job is queued and NOTIFY wakes the idle workers; they poll anyway.
-- A worker is a taker only while running, not asked to pause or stop, within its offer's
-- heartbeat-renewed lapse, matching the class, and alive: its listening connection holds
-- an advisory lock keyed by its name, so a killed worker stops taking jobs at once.
WITH taker AS (
    UPDATE rocketjob_workers SET handoff_slots = handoff_slots - 1
    WHERE name = (
        SELECT name FROM rocketjob_workers
        WHERE %(handoff)s AND %(throttle)s::text IS NULL AND handoff_slots > 0 AND handoff_until > %(created_at)s
          AND state = 'running' AND coalesce(desired_state, 'running') = 'running'
          AND (%(run_at)s::timestamptz IS NULL OR %(run_at)s::timestamptz <= %(created_at)s)
          AND (include_classes IS NULL OR %(class_name)s::text ~ include_classes)
          AND (exclude_classes IS NULL OR %(class_name)s::text !~ exclude_classes)
          AND NOT pg_try_advisory_xact_lock_shared(hashtextextended(name, 0))
        ORDER BY handoff_slots DESC, name
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING name
), inserted AS (
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields, sub_state, throttle,
                            state, started_at, worker_name, lease, history)
SELECT %(class_name)s, %(description)s, %(priority)s, %(run_at)s, %(expires_at)s,
       %(destroy_on_complete)s, %(created_at)s, %(fields)s::jsonb, %(sub_state)s, %(throttle)s,
       CASE WHEN taker.name IS NULL THEN 'queued' ELSE 'running' END,
       CASE WHEN taker.name IS NULL THEN NULL ELSE %(created_at)s::timestamptz END,
       taker.name,
       CASE WHEN taker.name IS NULL THEN 0 ELSE 1 END,
       CASE WHEN taker.name IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object(
           'at', %(created_at)s::timestamptz, 'from', 'queued', 'to', 'running',
           'action', 'start', 'by', taker.name)) END
FROM (SELECT) AS one LEFT JOIN taker ON true
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on
)
-- The notice starts with the worker's name, so every other worker skips it unparsed.
SELECT inserted.*,
       CASE WHEN inserted.worker_name IS NULL THEN pg_notify('rocketjob_jobs', '')
            WHEN octet_length(notice.payload) < 8000
                THEN pg_notify('rocketjob_handoff', notice.payload)
            ELSE pg_notify('rocketjob_handoff', inserted.worker_name || E'\n' || inserted.id) END
FROM inserted, LATERAL (
    SELECT inserted.worker_name || E'\n' || row_to_json(inserted)::text AS payload) AS notice;

-- name: insert_jobs
-- One statement for a whole chunk, the rows as one JSON array (parsed in C on both
-- ends): [description, priority, run_at, expires_at, destroy_on_complete, fields] each;
-- the class, sub_state and throttle are the chunk's.
-- Ids come back in input order.
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields, sub_state, throttle)
SELECT %(class_name)s, row->>0, (row->>1)::smallint, (row->>2)::timestamptz,
       (row->>3)::timestamptz, (row->>4)::boolean, %(created_at)s, row->5, %(sub_state)s,
       %(throttle)s
FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS given(row, n)
ORDER BY n
RETURNING id;

-- name: schema_present
-- Whether a connection the application lent (see store/lent.py) reaches rocketjob's tables.
SELECT to_regclass('rocketjob_jobs') IS NOT NULL AS present;

-- name: select_job
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
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
    attempt = %(attempt)s,
    worker_name = %(worker_name)s,
    exception = %(exception)s::jsonb,
    exception_class = %(exception)s::jsonb->>'class_name',
    percent_complete = COALESCE(%(percent_complete)s, percent_complete),
    version = version + 1,
    history = history || %(entry)s::jsonb
WHERE id = %(id)s AND version = %(version)s
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on;

-- name: delete_job
DELETE FROM rocketjob_jobs WHERE id = %(id)s AND version = %(version)s
RETURNING linked;

-- name: list_jobs
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE id < %(before_id)s
ORDER BY id DESC LIMIT %(limit)s;

-- name: list_jobs_of_class
-- The class index leaves running jobs out (migration 0009): they come from the state index.
SELECT * FROM (
    (SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
           destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
           lease, version, percent_complete, exception, fields, singleton_key, waiting_on
     FROM rocketjob_jobs
     WHERE class_name = %(class_name)s AND state <> 'running' AND id < %(before_id)s
     ORDER BY id DESC LIMIT %(limit)s)
    UNION ALL
    (SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
           destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
           lease, version, percent_complete, exception, fields, singleton_key, waiting_on
     FROM rocketjob_jobs
     WHERE state = 'running' AND class_name = %(class_name)s AND id < %(before_id)s
     ORDER BY id DESC LIMIT %(limit)s)
) AS page
ORDER BY id DESC LIMIT %(limit)s;

-- name: list_jobs_in_state
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE state = %(state)s AND id < %(before_id)s
  AND (%(class_name)s::text IS NULL OR class_name = %(class_name)s)
ORDER BY id DESC LIMIT %(limit)s;

-- name: list_jobs_due
-- Queued jobs that may run now (run_at empty or past).
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE state = 'queued' AND (run_at IS NULL OR run_at <= %(now)s) AND id < %(before_id)s
  AND (%(class_name)s::text IS NULL OR class_name = %(class_name)s)
ORDER BY id DESC LIMIT %(limit)s;

-- name: list_jobs_scheduled
-- Queued jobs waiting for run_at, the soonest first.
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
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
-- The history entry is the same for every row: built once by the caller, not per row.
WITH next AS (
    SELECT id FROM rocketjob_jobs
    WHERE state = 'queued' AND throttle IS NULL AND waiting_on = 0
      AND (run_at IS NULL OR run_at <= %(now)s)
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
    history = job.history || %(entry)s::jsonb
FROM next WHERE job.id = next.id
RETURNING job.id, job.class_name, job.description, job.priority, job.state, job.sub_state,
          job.run_at, job.expires_at, job.destroy_on_complete, job.created_at,
          job.started_at, job.completed_at, job.failure_count, job.attempt, job.worker_name, job.lease,
          job.version, job.percent_complete, job.exception, job.fields, job.singleton_key, job.waiting_on;

-- name: lock_throttle
-- Claimers of one throttle take turns: the lock is held to the claim's commit.
INSERT INTO rocketjob_throttles (name) VALUES (%(throttle)s)
ON CONFLICT (name) DO UPDATE SET name = excluded.name;

-- name: claim_throttled_jobs
-- A throttle's due jobs, at most as many as its limit leaves: run under lock_throttle, in
-- a statement of its own, so the count sees every claim committed before the lock.
WITH next AS (
    SELECT id FROM rocketjob_jobs
    WHERE state = 'queued' AND throttle = %(throttle)s AND waiting_on = 0
      AND (run_at IS NULL OR run_at <= %(now)s)
      AND (%(include)s::text IS NULL OR class_name ~ %(include)s)
      AND (%(exclude)s::text IS NULL OR class_name !~ %(exclude)s)
    ORDER BY priority, run_at NULLS FIRST, id
    LIMIT greatest(0, least(%(limit)s, %(throttle_limit)s - (
        SELECT count(*) FROM rocketjob_jobs
        WHERE throttle = %(throttle)s AND state = 'running')))
    FOR UPDATE SKIP LOCKED
)
UPDATE rocketjob_jobs AS job SET
    state = 'running',
    started_at = %(now)s,
    completed_at = NULL,
    worker_name = %(worker_name)s,
    lease = job.lease + 1,
    version = job.version + 1,
    history = job.history || %(entry)s::jsonb
FROM next WHERE job.id = next.id
RETURNING job.id, job.class_name, job.description, job.priority, job.state, job.sub_state,
          job.run_at, job.expires_at, job.destroy_on_complete, job.created_at,
          job.started_at, job.completed_at, job.failure_count, job.attempt, job.worker_name, job.lease,
          job.version, job.percent_complete, job.exception, job.fields, job.singleton_key, job.waiting_on;

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
WHERE id = %(id)s AND state = 'queued' AND waiting_on = 0
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on;

-- name: destroy_completed_jobs
-- Completion of jobs that keep nothing: only rows still running under the caller's lease.
-- Returns how many, and which of them have dependency edges (see release_dependants).
WITH finished AS (
    DELETE FROM rocketjob_jobs AS job
    USING unnest(%(ids)s::bigint[], %(leases)s::bigint[]) AS done(id, lease)
    WHERE job.id = done.id AND job.lease = done.lease AND job.state = 'running'
    RETURNING job.id, job.linked
)
SELECT count(*) AS n, array_agg(id) FILTER (WHERE linked) AS linked FROM finished;

-- name: complete_jobs
WITH finished AS (
    UPDATE rocketjob_jobs AS job SET
        state = 'completed',
        sub_state = NULL,
        completed_at = %(now)s,
        percent_complete = 100,
        version = job.version + 1,
        history = job.history || %(entry)s::jsonb
    FROM unnest(%(ids)s::bigint[], %(leases)s::bigint[]) AS done(id, lease)
    WHERE job.id = done.id AND job.lease = done.lease AND job.state = 'running'
    RETURNING job.id, job.linked
)
SELECT count(*) AS n, array_agg(id) FILTER (WHERE linked) AS linked FROM finished;

-- name: fail_claimed_job
UPDATE rocketjob_jobs SET
    state = 'failed',
    completed_at = %(now)s,
    failure_count = failure_count + 1,
    exception = %(exception)s::jsonb,
    exception_class = %(exception)s::jsonb->>'class_name',
    version = version + 1,
    history = history || jsonb_build_array(jsonb_build_object(
        'at', %(now)s::timestamptz, 'from', 'running', 'to', 'failed',
        'action', 'fail', 'by', %(worker_name)s::text, 'message', %(message)s::text))
WHERE id = %(id)s AND lease = %(lease)s AND state = 'running';

-- name: retry_claimed_job
-- A failure with a retry left: recorded, and the job back in the queue, due at run_at, in
-- one statement, only while the worker still holds it.
UPDATE rocketjob_jobs SET
    state = 'queued',
    run_at = %(run_at)s,
    worker_name = NULL,
    percent_complete = 0,
    failure_count = failure_count + 1,
    attempt = attempt + 1,
    exception = %(exception)s::jsonb,
    exception_class = %(exception)s::jsonb->>'class_name',
    version = version + 1,
    history = history || jsonb_build_array(jsonb_build_object(
        'at', %(now)s::timestamptz, 'from', 'running', 'to', 'queued', 'action', 'fail',
        'by', %(worker_name)s::text, 'message', %(message)s::text, 'attempt', attempt + 1,
        'retry_at', %(run_at)s::timestamptz))
WHERE id = %(id)s AND lease = %(lease)s AND state = 'running';

-- name: job_leases
-- After completions that did not all go through: which jobs moved on meanwhile.
SELECT id, lease, state FROM rocketjob_jobs WHERE id = ANY(%(ids)s::bigint[]);

-- name: record_progress
-- Progress of a claimed job; the state it returns tells the worker whether to go on.
UPDATE rocketjob_jobs SET percent_complete = %(percent_complete)s
WHERE id = %(id)s AND lease = %(lease)s AND state = 'running'
RETURNING state;

-- name: claimed_state
SELECT state FROM rocketjob_jobs WHERE id = %(id)s AND lease = %(lease)s;

-- name: register_worker
INSERT INTO rocketjob_workers (name, host, pid, state, desired_state, threads, async_slots,
                               started_at, heartbeat_at, include_classes, exclude_classes)
VALUES (%(name)s, %(host)s, %(pid)s, 'starting', NULL, %(threads)s, %(async_slots)s, %(now)s,
        %(now)s, %(include)s, %(exclude)s)
ON CONFLICT (name) DO UPDATE SET
    host = excluded.host, pid = excluded.pid, state = 'starting', desired_state = NULL,
    threads = excluded.threads, async_slots = excluded.async_slots,
    started_at = excluded.started_at,
    heartbeat_at = excluded.heartbeat_at, handoff_slots = 0,
    include_classes = excluded.include_classes, exclude_classes = excluded.exclude_classes;

-- name: heartbeat
-- The worker reports its state and learns what operators asked of it; the beat also
-- renews its offer of hand-offs.
UPDATE rocketjob_workers SET state = %(state)s, heartbeat_at = %(now)s,
    handoff_until = %(handoff_until)s
WHERE name = %(name)s
RETURNING desired_state, clock_timestamp() AS database_now;

-- name: database_now
SELECT clock_timestamp() AS database_now;

-- name: offer_handoffs
-- How many jobs creators may hand this worker from now on (0: none).
UPDATE rocketjob_workers SET handoff_slots = %(slots)s, handoff_until = %(until)s
WHERE name = %(name)s;

-- name: handed_off_jobs
-- Jobs handed to a worker: those the notices named, or (ids NULL) every job it runs.
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE state = 'running' AND worker_name = %(name)s
  AND (%(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s::bigint[]));

-- name: deregister_worker
DELETE FROM rocketjob_workers WHERE name = %(name)s;

-- name: list_workers
SELECT name, host, pid, state, desired_state, threads, async_slots, started_at, heartbeat_at
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
-- Jobs run inline by perform_now() belong to no worker and are left alone, and so are
-- the reaper's own: it is alive. Rows another session holds locked (a host cut off in the
-- middle of a transaction) are skipped, not waited for: the next pass takes them once the
-- server has ended that session.
WITH dead AS (
    SELECT job.id FROM rocketjob_jobs AS job
    WHERE job.state = 'running'
      AND job.started_at < %(cutoff)s
      AND job.worker_name NOT LIKE 'inline:%%'
      AND job.worker_name <> %(by)s::text
      AND NOT EXISTS (
          SELECT 1 FROM rocketjob_workers AS w
          WHERE w.name = job.worker_name AND w.heartbeat_at >= %(cutoff)s)
    FOR UPDATE OF job SKIP LOCKED
)
UPDATE rocketjob_jobs AS job SET
    state = 'queued',
    worker_name = NULL,
    version = job.version + 1,
    history = job.history || jsonb_build_array(jsonb_build_object(
        'at', %(now)s::timestamptz, 'from', 'running', 'to', 'queued', 'action', 'requeue',
        'by', %(by)s::text,
        'message', 'worker ' || coalesce(job.worker_name, '?') || ' stopped heartbeating'))
FROM dead WHERE job.id = dead.id
RETURNING job.id, job.class_name;

-- name: count_orphans
-- Whether the reaper would requeue anything now (the same conditions as it uses).
SELECT EXISTS (
           SELECT 1 FROM rocketjob_jobs AS job
           WHERE job.state = 'running' AND job.started_at < %(cutoff)s
             AND job.worker_name NOT LIKE 'inline:%%' AND job.worker_name <> %(by)s::text
             AND NOT EXISTS (SELECT 1 FROM rocketjob_workers AS w
                             WHERE w.name = job.worker_name AND w.heartbeat_at >= %(cutoff)s))
       OR EXISTS (
           SELECT 1 FROM rocketjob_slices AS s
           WHERE s.state = 'running' AND s.started_at < %(cutoff)s
             AND s.worker_name NOT LIKE 'inline:%%' AND s.worker_name <> %(by)s::text
             AND NOT EXISTS (SELECT 1 FROM rocketjob_workers AS w
                             WHERE w.name = s.worker_name AND w.heartbeat_at >= %(cutoff)s))
       AS orphans;

-- name: delete_dead_workers
DELETE FROM rocketjob_workers
WHERE name IN (SELECT name FROM rocketjob_workers
               WHERE heartbeat_at < %(cutoff)s AND name <> %(by)s::text
               FOR UPDATE SKIP LOCKED)
RETURNING name;

-- name: notify_jobs
-- Jobs became claimable: wake idle workers (delivered at commit).
SELECT pg_notify('rocketjob_jobs', '');

-- name: hand_back_jobs
-- A stopping worker returns jobs it holds to the queue; only rows it still holds.
-- A job claimed outside its processing window goes back with run_at at the next opening.
UPDATE rocketjob_jobs AS job SET
    state = 'queued',
    worker_name = NULL,
    run_at = COALESCE(%(run_at)s::timestamptz, job.run_at),
    version = job.version + 1,
    history = job.history || jsonb_build_array(jsonb_build_object(
        'at', %(now)s::timestamptz, 'from', 'running', 'to', 'queued', 'action', 'requeue',
        'by', %(worker_name)s::text, 'message', %(reason)s::text))
FROM unnest(%(ids)s::bigint[], %(leases)s::bigint[]) AS held(id, lease)
WHERE job.id = held.id AND job.lease = held.lease AND job.state = 'running';

-- name: list_class_names
-- The distinct class names, one index probe each (a loose index scan), and the classes of
-- the running jobs, which the class index leaves out.
WITH RECURSIVE classes(class_name) AS (
    (SELECT class_name FROM rocketjob_jobs WHERE state <> 'running'
     ORDER BY class_name LIMIT 1)
    UNION ALL
    SELECT (SELECT job.class_name FROM rocketjob_jobs AS job
            WHERE job.state <> 'running' AND job.class_name > classes.class_name
            ORDER BY job.class_name LIMIT 1)
    FROM classes WHERE classes.class_name IS NOT NULL
)
SELECT class_name FROM classes WHERE class_name IS NOT NULL
UNION
SELECT class_name FROM rocketjob_jobs WHERE state = 'running'
ORDER BY class_name;

-- name: search_jobs
-- Mission Control's search: jobs of the classes whose names contain the search text
-- (found first, by list_class_names) or whose description contains it. The class arm is
-- split by state: the class index leaves running jobs out (migration 0009).
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE id < %(before_id)s
  AND ((class_name = ANY(%(classes)s::text[]) AND state <> 'running')
       OR (class_name = ANY(%(classes)s::text[]) AND state = 'running')
       OR description ILIKE %(pattern)s ESCAPE '\')
ORDER BY id DESC LIMIT %(limit)s;

-- name: search_jobs_in_state
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE state = %(state)s AND id < %(before_id)s
  AND ((class_name = ANY(%(classes)s::text[]) AND state <> 'running')
       OR (class_name = ANY(%(classes)s::text[]) AND state = 'running')
       OR description ILIKE %(pattern)s ESCAPE '\')
ORDER BY id DESC LIMIT %(limit)s;

-- name: search_jobs_due
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE state = 'queued' AND (run_at IS NULL OR run_at <= %(now)s) AND id < %(before_id)s
  AND (class_name = ANY(%(classes)s::text[]) OR description ILIKE %(pattern)s ESCAPE '\')
ORDER BY id DESC LIMIT %(limit)s;

-- name: search_jobs_scheduled
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE state = 'queued' AND run_at IS NOT NULL AND run_at > %(now)s
  AND (run_at, id) > (%(after_run_at)s, %(after_id)s)
  AND (class_name = ANY(%(classes)s::text[]) OR description ILIKE %(pattern)s ESCAPE '\')
ORDER BY run_at, id LIMIT %(limit)s;

-- Failures (Mission Control) -----------------------------------------------------------

-- name: failure_groups
-- Failed jobs per job class and exception class, counted over recent windows (a failed
-- job's completed_at is when it failed); the newest job of a group gives its sample.
SELECT g.class_name, g.exception_class, g.total, g.last_hour, g.last_day, g.last_week,
       g.latest_id, latest.exception->>'message' AS latest_message,
       latest.completed_at AS latest_at
FROM (
    SELECT class_name, exception_class,
           count(*) AS total,
           count(*) FILTER (WHERE completed_at >= %(hour_ago)s) AS last_hour,
           count(*) FILTER (WHERE completed_at >= %(day_ago)s) AS last_day,
           count(*) FILTER (WHERE completed_at >= %(week_ago)s) AS last_week,
           max(id) AS latest_id
    FROM rocketjob_jobs
    WHERE state = 'failed'
    GROUP BY class_name, exception_class
) AS g
CROSS JOIN LATERAL (
    SELECT exception, completed_at FROM rocketjob_jobs WHERE id = g.latest_id
) AS latest
ORDER BY g.last_day DESC, g.total DESC, g.class_name, g.exception_class
LIMIT %(limit)s;

-- name: list_failed_in_group
-- One group of the Failures view, newest first, along the failures index.
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE state = 'failed' AND class_name = %(class_name)s
  AND exception_class = %(exception_class)s AND id < %(before_id)s
ORDER BY id DESC LIMIT %(limit)s;

-- name: list_failed_with_exception
-- Failed jobs of any class that raised one exception class.
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE state = 'failed' AND exception_class = %(exception_class)s
  AND id < %(before_id)s
ORDER BY id DESC LIMIT %(limit)s;

-- name: failed_jobs_after
-- The next chunk of a bulk action on failed jobs, oldest first, after the last one it
-- handled; every filter is optional (a search matches the classes found for it or the
-- description).
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE state = 'failed' AND id > %(after_id)s
  AND (%(class_name)s::text IS NULL OR class_name = %(class_name)s)
  AND (%(exception_class)s::text IS NULL OR exception_class = %(exception_class)s)
  AND (%(pattern)s::text IS NULL OR class_name = ANY(%(classes)s::text[])
       OR description ILIKE %(pattern)s ESCAPE '\')
ORDER BY id LIMIT %(limit)s;

-- name: count_failed_matching
-- How many failed jobs of a job class and/or exception class there are, counted up to a
-- cap so a huge list stays cheap.
SELECT count(*) AS n FROM (
    SELECT 1 FROM rocketjob_jobs
    WHERE state = 'failed'
      AND (%(class_name)s::text IS NULL OR class_name = %(class_name)s)
      AND (%(exception_class)s::text IS NULL OR exception_class = %(exception_class)s)
    LIMIT %(cap)s
) AS capped;

-- name: count_failed_search
-- How many failed jobs a search matches, up to a cap, newest first as the Failed list is
-- searched: the cost grows with the cap, so searches count less far than filters.
SELECT count(*) AS n FROM (
    SELECT 1 FROM rocketjob_jobs
    WHERE state = 'failed'
      AND (class_name = ANY(%(classes)s::text[]) OR description ILIKE %(pattern)s ESCAPE '\')
    ORDER BY id DESC LIMIT %(cap)s
) AS capped;

-- name: transition_many
-- Operators' actions on many jobs in one statement (bulk retry or abort), each applied
-- only if nobody changed the job since it was read, as `transition` does for one.
UPDATE rocketjob_jobs AS job SET
    state = change.state,
    sub_state = change.sub_state,
    run_at = change.run_at,
    started_at = change.started_at,
    completed_at = change.completed_at,
    failure_count = change.failure_count,
    attempt = change.attempt,
    worker_name = change.worker_name,
    exception = change.exception::jsonb,
    exception_class = change.exception::jsonb->>'class_name',
    percent_complete = coalesce(change.percent_complete, job.percent_complete),
    version = job.version + 1,
    history = job.history || change.entry::jsonb
FROM unnest(%(id)s::bigint[], %(version)s::bigint[], %(state)s::text[],
            %(sub_state)s::text[], %(run_at)s::timestamptz[], %(started_at)s::timestamptz[],
            %(completed_at)s::timestamptz[], %(failure_count)s::integer[],
            %(attempt)s::integer[], %(worker_name)s::text[], %(exception)s::text[],
            %(percent_complete)s::smallint[], %(entry)s::text[])
     AS change(id, version, state, sub_state, run_at, started_at, completed_at,
               failure_count, attempt, worker_name, exception, percent_complete, entry)
WHERE job.id = change.id AND job.version = change.version
RETURNING job.id;

-- Batch jobs ---------------------------------------------------------------------------

-- name: insert_batch
-- Starts an upload; nothing comes back if the job already has (or is receiving) one, or
-- is gone. The job row stays locked against deletion until the batch row is committed,
-- so the deletion, when it comes, finds the batch row and drops it too.
INSERT INTO rocketjob_batches (job_id, slice_size, input_header, output_header,
                               upload_started_at)
SELECT id, %(slice_size)s, %(input_header)s::jsonb, %(output_header)s::jsonb, %(now)s
FROM rocketjob_jobs WHERE id = %(job_id)s
FOR KEY SHARE
ON CONFLICT (job_id) DO NOTHING
RETURNING job_id;

-- name: insert_slices
-- A chunk of slices in one statement: arrays unnested into rows.
INSERT INTO rocketjob_slices (job_id, position, first_record, record_count, records)
SELECT %(job_id)s, position, first_record, record_count, records
FROM unnest(%(position)s::integer[], %(first_record)s::bigint[],
            %(record_count)s::integer[], %(records)s::bytea[])
     AS given(position, first_record, record_count, records);

-- name: count_uploaded
UPDATE rocketjob_batches SET uploaded_records = %(records)s WHERE job_id = %(job_id)s;

-- name: finish_upload
UPDATE rocketjob_batches SET record_count = %(records)s, uploaded_records = %(records)s,
                             uploaded_at = %(now)s
WHERE job_id = %(job_id)s;

-- name: drop_slices
DELETE FROM rocketjob_slices WHERE job_id = %(job_id)s;

-- name: drop_batch
DELETE FROM rocketjob_batches WHERE job_id = %(job_id)s;

-- name: select_batch
SELECT job_id, slice_size, input_header, output_header, record_count, uploaded_records,
       records_done, upload_started_at, uploaded_at, run_started_at, run_records
FROM rocketjob_batches WHERE job_id = %(job_id)s;

-- name: set_output_header
-- The first slice to write CSV output fixes the header; every later one gets that one.
UPDATE rocketjob_batches SET output_header = coalesce(output_header, %(header)s::jsonb)
WHERE job_id = %(job_id)s
RETURNING output_header;

-- name: claim_slices
-- The most urgent processing job that has queued slices, then its slices in input order;
-- slices other workers hold are skipped.
WITH job AS (
    SELECT j.id FROM rocketjob_jobs AS j
    WHERE j.state = 'running' AND j.sub_state = 'processing'
      AND (j.run_at IS NULL OR j.run_at <= %(now)s)  -- failed slices wait out a retry delay
      AND (%(include)s::text IS NULL OR j.class_name ~ %(include)s)
      AND (%(exclude)s::text IS NULL OR j.class_name !~ %(exclude)s)
      AND EXISTS (SELECT 1 FROM rocketjob_slices AS q
                  WHERE q.job_id = j.id AND q.state = 'queued')
      -- no slice is claimed before its upload was read whole: a failed upload ran nothing
      AND EXISTS (SELECT 1 FROM rocketjob_batches AS b
                  WHERE b.job_id = j.id AND b.record_count IS NOT NULL)
    ORDER BY j.priority, j.id
    LIMIT 1
), next AS (
    SELECT s.id FROM rocketjob_slices AS s
    WHERE s.job_id = (SELECT id FROM job) AND s.state = 'queued'
    ORDER BY s.position
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE rocketjob_slices AS s SET
    state = 'running',
    worker_name = %(worker_name)s,
    lease = s.lease + 1,
    started_at = %(now)s
FROM next WHERE s.id = next.id
RETURNING s.id, s.job_id, s.position, s.first_record, s.record_count, s.lease,
          s.started_at, s.processed, s.records, s.output, s.output_count,
          -- read afresh with every claim: a replaced upload may have another header
          (SELECT b.input_header FROM rocketjob_batches AS b WHERE b.job_id = s.job_id)
              AS input_header,
          (SELECT b.output_header FROM rocketjob_batches AS b WHERE b.job_id = s.job_id)
              AS output_header;

-- name: complete_slice
-- The output is written by the statement that completes the slice, under its lease; the
-- batch's count of records done moves in the same statement, under the batch row's lock,
-- so the completion that brings it to the record count is the last one.
WITH done AS (
    UPDATE rocketjob_slices SET
        state = 'completed',
        completed_at = %(now)s,
        processed = record_count,
        records = NULL,
        output = %(output)s,
        output_count = %(output_count)s
    WHERE id = %(id)s AND lease = %(lease)s AND state = 'running'
    RETURNING job_id, record_count, started_at
)
UPDATE rocketjob_batches AS b SET
    records_done = b.records_done + done.record_count,
    run_started_at = coalesce(b.run_started_at, done.started_at)
FROM done WHERE b.job_id = done.job_id
RETURNING b.job_id, b.records_done, b.record_count, b.failed_slices;

-- name: set_batch_percent
UPDATE rocketjob_jobs SET percent_complete = %(percent_complete)s
WHERE id = %(job_id)s AND state = 'running' AND percent_complete <> %(percent_complete)s;

-- name: fail_slice
-- A record raised: the output of the records before it is kept, to be appended to.
WITH failed AS (
    UPDATE rocketjob_slices SET
        state = 'failed',
        completed_at = %(now)s,
        processed = %(processed)s,
        output = %(output)s,
        output_count = %(output_count)s,
        failed_record = %(failed_record)s,
        exception = %(exception)s::jsonb
    WHERE id = %(id)s AND lease = %(lease)s AND state = 'running'
    RETURNING job_id
)
UPDATE rocketjob_batches AS b SET failed_slices = b.failed_slices + 1
FROM failed WHERE b.job_id = failed.job_id
RETURNING b.job_id;

-- name: slices_left
-- Equalities on both columns of the state index, so each probe stops at one entry.
SELECT (EXISTS (SELECT 1 FROM rocketjob_slices WHERE job_id = %(job_id)s AND state = 'queued')
        OR EXISTS (SELECT 1 FROM rocketjob_slices WHERE job_id = %(job_id)s AND state = 'running'))
       AS busy,
       (SELECT count(*) FROM rocketjob_slices
        WHERE job_id = %(job_id)s AND state = 'failed') AS failed,
       (SELECT record_count FROM rocketjob_batches WHERE job_id = %(job_id)s) AS record_count;

-- name: start_batch_after
-- Exactly one worker moves a finished batch from processing to after, and holds it.
UPDATE rocketjob_jobs AS job SET
    sub_state = 'after',
    worker_name = %(worker_name)s,
    lease = job.lease + 1,
    version = job.version + 1
WHERE job.id = %(job_id)s AND job.state = 'running' AND job.sub_state = 'processing'
  AND EXISTS (SELECT 1 FROM rocketjob_batches AS b
              WHERE b.job_id = job.id AND b.record_count IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM rocketjob_slices AS s
                  WHERE s.job_id = job.id AND s.state <> 'completed')
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on;

-- name: fail_batch_job
-- Only failed slices are left: the job fails, once.
UPDATE rocketjob_jobs AS job SET
    state = 'failed',
    completed_at = %(now)s,
    failure_count = job.failure_count + 1,
    exception = %(exception)s::jsonb,
    exception_class = %(exception)s::jsonb->>'class_name',
    version = job.version + 1,
    history = job.history || jsonb_build_array(jsonb_build_object(
        'at', %(now)s::timestamptz, 'from', 'running', 'to', 'failed',
        'action', 'fail', 'by', %(worker_name)s::text, 'message', %(message)s::text))
WHERE job.id = %(job_id)s AND job.state = 'running' AND job.sub_state = 'processing'
  AND EXISTS (SELECT 1 FROM rocketjob_batches AS b
              WHERE b.job_id = job.id AND b.record_count IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM rocketjob_slices AS s
                  WHERE s.job_id = job.id AND s.state IN ('queued', 'running'))
  AND (SELECT count(*) FROM rocketjob_slices AS s
       WHERE s.job_id = job.id AND s.state = 'failed') = %(failed)s;

-- name: retry_batch_job
-- Only failed slices are left and the job has a retry left: it stays in processing, its
-- failed slices requeued but waiting until run_at (see claim_slices), once. Same guard as
-- fail_batch_job.
WITH retried AS (
    UPDATE rocketjob_jobs AS job SET
        run_at = %(run_at)s,
        failure_count = job.failure_count + 1,
        attempt = job.attempt + 1,
        version = job.version + 1,
        history = job.history || jsonb_build_array(jsonb_build_object(
            'at', %(now)s::timestamptz, 'from', 'running', 'to', 'running', 'action', 'fail',
            'by', %(worker_name)s::text, 'message', %(message)s::text,
            'attempt', job.attempt + 1, 'retry_at', %(run_at)s::timestamptz))
    -- the version read when deciding: of settles racing, the first wins (the subqueries
    -- below are not looked at again once the row is unlocked, the version is)
    WHERE job.id = %(job_id)s AND job.version = %(version)s
      AND job.state = 'running' AND job.sub_state = 'processing'
      AND EXISTS (SELECT 1 FROM rocketjob_batches AS b
                  WHERE b.job_id = job.id AND b.record_count IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM rocketjob_slices AS s
                      WHERE s.job_id = job.id AND s.state IN ('queued', 'running'))
      AND (SELECT count(*) FROM rocketjob_slices AS s
           WHERE s.job_id = job.id AND s.state = 'failed') = %(failed)s
    RETURNING job.id
), requeued AS (
    UPDATE rocketjob_slices AS s SET
        state = 'queued', worker_name = NULL, failed_record = NULL, exception = NULL
    FROM retried WHERE s.job_id = retried.id AND s.state = 'failed'
    RETURNING s.job_id
), counted AS (
    UPDATE rocketjob_batches AS b SET failed_slices = b.failed_slices - moved.n
    FROM (SELECT job_id, count(*) AS n FROM requeued GROUP BY job_id) AS moved
    WHERE b.job_id = moved.job_id
)
SELECT id FROM retried;

-- name: settle_candidates
-- Processing jobs with nothing queued or running: a missed last slice, a late upload end.
SELECT j.id FROM rocketjob_jobs AS j JOIN rocketjob_batches AS b ON b.job_id = j.id
WHERE j.state = 'running' AND j.sub_state = 'processing' AND b.record_count IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM rocketjob_slices AS s
                  WHERE s.job_id = j.id AND s.state IN ('queued', 'running'))
ORDER BY j.priority, j.id;

-- name: begin_batch_before
UPDATE rocketjob_jobs SET sub_state = 'before'
WHERE id = %(id)s AND lease = %(lease)s AND state = 'running' AND sub_state IS NULL;

-- name: begin_batch_processing
-- before_batch() ran: the job is released to every worker's slice claims. A pause that
-- came meanwhile is kept; before_batch() is not run again on resume.
UPDATE rocketjob_jobs SET
    sub_state = 'processing',
    worker_name = NULL,
    version = version + 1
WHERE id = %(id)s AND lease = %(lease)s AND state IN ('running', 'paused')
  AND coalesce(sub_state, 'before') = 'before';

-- name: restart_batch_run
UPDATE rocketjob_batches SET run_started_at = NULL, run_records = records_done
WHERE job_id = %(job_id)s;

-- name: requeue_failed_slices
WITH requeued AS (
    UPDATE rocketjob_slices SET
        state = 'queued', worker_name = NULL, failed_record = NULL, exception = NULL
    WHERE job_id = %(job_id)s AND state = 'failed'
      AND (%(position)s::integer IS NULL OR position = %(position)s)
    RETURNING job_id
), counted AS (
    UPDATE rocketjob_batches AS b SET failed_slices = b.failed_slices - moved.n
    FROM (SELECT job_id, count(*) AS n FROM requeued GROUP BY job_id) AS moved
    WHERE b.job_id = moved.job_id
)
SELECT count(*) AS n FROM requeued;

-- name: slice_held
-- Whether a worker still holds a slice it claimed (asked before it starts, after a lapse).
SELECT 1 AS held FROM rocketjob_slices WHERE id = %(id)s AND lease = %(lease)s AND state = 'running';

-- name: requeue_slices_of_dead_workers
-- Running slices whose worker stopped heartbeating go back to the queue; the next claim
-- bumps the lease, so the old holder can no longer complete them. Locked rows are skipped,
-- as the jobs' reaper does.
UPDATE rocketjob_slices AS s SET state = 'queued', worker_name = NULL
WHERE s.id IN (
    SELECT d.id FROM rocketjob_slices AS d
    WHERE d.state = 'running'
      AND d.started_at < %(cutoff)s
      AND d.worker_name NOT LIKE 'inline:%%'
      AND d.worker_name <> %(by)s::text
      AND NOT EXISTS (
          SELECT 1 FROM rocketjob_workers AS w
          WHERE w.name = d.worker_name AND w.heartbeat_at >= %(cutoff)s)
    FOR UPDATE SKIP LOCKED)
RETURNING s.id, s.job_id, s.position;

-- name: slice_counts
SELECT state, count(*) AS slices, coalesce(sum(record_count), 0) AS records
FROM rocketjob_slices WHERE job_id = %(job_id)s GROUP BY state;

-- name: failed_slices
SELECT position, first_record, record_count, processed, failed_record, exception,
       worker_name, started_at, completed_at
FROM rocketjob_slices
WHERE job_id = %(job_id)s AND state = 'failed' AND position > %(after)s
ORDER BY position LIMIT %(limit)s;

-- name: failed_slices_by_exception
SELECT exception->>'class_name' AS class_name, count(*) AS slices,
       min(position) AS first_position
FROM rocketjob_slices WHERE job_id = %(job_id)s AND state = 'failed'
GROUP BY 1 ORDER BY count(*) DESC, 1;

-- name: failed_slice_records
SELECT position, first_record, processed, records, exception
FROM rocketjob_slices
WHERE job_id = %(job_id)s AND state = 'failed' AND position > %(after)s
  AND (%(position)s::integer IS NULL OR position = %(position)s)
ORDER BY position LIMIT %(limit)s;

-- name: output_slices
SELECT position, output, output_count FROM rocketjob_slices
WHERE job_id = %(job_id)s AND state = 'completed' AND position > %(after)s
ORDER BY position LIMIT %(limit)s;

-- name: workers_on_batches
SELECT job_id, count(DISTINCT worker_name) AS workers FROM rocketjob_slices
WHERE state = 'running' AND job_id = ANY(%(ids)s::bigint[])
GROUP BY job_id;

-- name: hand_back_slices
-- A pausing or stopping worker returns the slices it holds and has not finished.
UPDATE rocketjob_slices AS s SET state = 'queued', worker_name = NULL
FROM unnest(%(ids)s::bigint[], %(leases)s::bigint[]) AS held(id, lease)
WHERE s.id = held.id AND s.lease = held.lease AND s.state = 'running';

-- Cron -----------------------------------------------------------------------------------

-- name: cron_schedules
SELECT class_name, cron, timezone FROM rocketjob_cron ORDER BY class_name;

-- name: save_cron_schedule
INSERT INTO rocketjob_cron (class_name, cron, timezone, updated_at)
VALUES (%(class_name)s, %(cron)s, %(timezone)s, %(now)s)
ON CONFLICT (class_name) DO UPDATE SET
    cron = excluded.cron, timezone = excluded.timezone, updated_at = excluded.updated_at;

-- name: insert_cron_job
-- The instance waiting for the next occurrence; none if one waits already.
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields, cron, throttle)
VALUES (%(class_name)s, %(description)s, %(priority)s, %(run_at)s, %(expires_at)s,
        %(destroy_on_complete)s, %(created_at)s, %(fields)s::jsonb, %(cron)s, %(throttle)s)
ON CONFLICT (class_name)
    WHERE cron IS NOT NULL AND state IN ('queued', 'paused') AND started_at IS NULL
    DO NOTHING
RETURNING id;

-- name: reschedule_cron_job
-- The schedule changed in code: the waiting instance waits for the new next occurrence.
UPDATE rocketjob_jobs SET run_at = %(run_at)s, cron = %(cron)s, version = version + 1
WHERE class_name = %(class_name)s AND cron IS NOT NULL AND state IN ('queued', 'paused')
  AND started_at IS NULL;

-- name: drop_cron_jobs
-- The class no longer has a schedule: its waiting instance goes.
DELETE FROM rocketjob_jobs
WHERE class_name = %(class_name)s AND cron IS NOT NULL AND state IN ('queued', 'paused')
  AND started_at IS NULL;

-- name: drop_cron_schedule
DELETE FROM rocketjob_cron WHERE class_name = %(class_name)s;

-- name: cron_started
UPDATE rocketjob_cron SET last_job_id = %(id)s, last_started_at = %(now)s,
                          last_outcome = 'running', last_finished_at = NULL
WHERE class_name = %(class_name)s;

-- name: cron_finished
UPDATE rocketjob_cron SET last_outcome = %(outcome)s, last_finished_at = %(now)s
WHERE class_name = %(class_name)s AND last_job_id = %(id)s;

-- name: list_cron
-- Every schedule with its waiting instance (if any) and its latest run (whether that job
-- is still in the table: a completed one is deleted unless its class keeps it).
SELECT c.class_name, c.cron, c.timezone, c.updated_at, c.last_job_id, c.last_started_at,
       c.last_outcome, c.last_finished_at, j.id AS pending_id, j.state AS pending_state,
       j.run_at AS next_run_at,
       EXISTS (SELECT 1 FROM rocketjob_jobs AS l WHERE l.id = c.last_job_id) AS last_job_kept
FROM rocketjob_cron AS c
LEFT JOIN rocketjob_jobs AS j ON j.class_name = c.class_name AND j.cron IS NOT NULL
                             AND j.state IN ('queued', 'paused') AND j.started_at IS NULL
ORDER BY c.class_name;

-- Flow: singletons and dependencies (see store/flow.py) ---------------------------------

-- name: insert_unique_job
-- A job of a singleton class: nothing is inserted while another job holds its slot (a
-- creator racing for it waits for the other's commit, then finds it held).
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields, sub_state, singleton_key,
                            throttle)
VALUES (%(class_name)s, %(description)s, %(priority)s, %(run_at)s, %(expires_at)s,
        %(destroy_on_complete)s, %(created_at)s, %(fields)s::jsonb, %(sub_state)s,
        %(singleton_key)s, %(throttle)s)
ON CONFLICT (singleton_key)
    WHERE singleton_key IS NOT NULL AND state IN ('queued', 'running', 'paused')
    DO NOTHING
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on;

-- name: singleton_holder
SELECT id, state FROM rocketjob_jobs
WHERE singleton_key = %(singleton_key)s AND state IN ('queued', 'running', 'paused');

-- name: last_job_id
-- The last id handed out: an id up to it that is missing was a job once.
SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('rocketjob_jobs', 'id')), 0)
       AS id;

-- name: link_prerequisites
-- Marks the prerequisites of a new job and reads their states under a row lock: a
-- completion of one of them waits for this transaction, then sees it has dependants.
UPDATE rocketjob_jobs SET linked = true WHERE id = ANY(%(ids)s::bigint[])
RETURNING id, state;

-- name: add_dependencies
INSERT INTO rocketjob_dependencies (job_id, depends_on_id, done)
SELECT %(job_id)s, given.id, given.done
FROM unnest(%(ids)s::bigint[], %(done)s::boolean[]) AS given(id, done);

-- name: set_waiting_on
UPDATE rocketjob_jobs SET waiting_on = %(waiting_on)s, linked = true WHERE id = %(job_id)s;

-- name: release_dependants
-- Of these prerequisites, those completed or gone are done: their dependants wait on one
-- fewer. Run as a statement of its own after the completion, so that it sees the
-- dependants created while the completion waited for their lock.
WITH finished AS (
    SELECT given.id FROM unnest(%(ids)s::bigint[]) AS given(id)
    WHERE NOT EXISTS (SELECT 1 FROM rocketjob_jobs AS j
                      WHERE j.id = given.id AND j.state <> 'completed')
), released AS (
    UPDATE rocketjob_dependencies AS d SET done = true
    FROM finished WHERE d.depends_on_id = finished.id AND NOT d.done
    RETURNING d.job_id
)
UPDATE rocketjob_jobs AS job SET waiting_on = job.waiting_on - moved.n
FROM (SELECT job_id, count(*) AS n FROM released GROUP BY job_id) AS moved
WHERE job.id = moved.job_id
RETURNING job.id, job.waiting_on;

-- name: forget_dependencies
-- The edges of waiting jobs that are gone.
DELETE FROM rocketjob_dependencies AS d USING unnest(%(ids)s::bigint[]) AS given(id)
WHERE d.job_id = given.id
  AND NOT EXISTS (SELECT 1 FROM rocketjob_jobs AS j WHERE j.id = given.id);

-- name: prerequisites_of
SELECT d.depends_on_id AS id, d.done, j.state, j.class_name
FROM rocketjob_dependencies AS d LEFT JOIN rocketjob_jobs AS j ON j.id = d.depends_on_id
WHERE d.job_id = %(id)s
ORDER BY d.depends_on_id;

-- name: dependants_of
SELECT d.job_id AS id, d.done, j.state, j.class_name
FROM rocketjob_dependencies AS d JOIN rocketjob_jobs AS j ON j.id = d.job_id
WHERE d.depends_on_id = %(id)s
ORDER BY d.job_id LIMIT %(limit)s;

-- name: insert_dirmon_entry
-- None when the name is taken: names are unique.
INSERT INTO rocketjob_dirmon_entries (name, pattern, job_class, properties, archive_directory,
                                      state, created_at, updated_at)
VALUES (%(name)s, %(pattern)s, %(job_class)s, %(properties)s::jsonb, %(archive_directory)s, 'pending', %(now)s, %(now)s)
ON CONFLICT (name) DO NOTHING
RETURNING *;

-- name: update_dirmon_entry
UPDATE rocketjob_dirmon_entries
SET name = %(name)s, pattern = %(pattern)s, job_class = %(job_class)s, properties = %(properties)s::jsonb,
    archive_directory = %(archive_directory)s, updated_at = %(now)s
WHERE id = %(id)s
RETURNING *;

-- name: select_dirmon_entry
SELECT * FROM rocketjob_dirmon_entries WHERE id = %(id)s;

-- name: select_dirmon_entry_by_name
SELECT * FROM rocketjob_dirmon_entries WHERE name = %(name)s;

-- name: list_dirmon_entries
SELECT * FROM rocketjob_dirmon_entries ORDER BY name;

-- name: set_dirmon_state
-- An operator's enable or disable: only from the states the action allows.
UPDATE rocketjob_dirmon_entries
SET state = %(state)s, last_error = NULL, updated_at = %(now)s
WHERE id = %(id)s AND state = ANY(%(from_states)s::text[])
RETURNING *;

-- name: delete_dirmon_entry
DELETE FROM rocketjob_dirmon_entries WHERE id = %(id)s;

-- name: dirmon_scanned
UPDATE rocketjob_dirmon_entries SET last_scan_at = %(now)s WHERE id = %(id)s;

-- name: dirmon_failed
-- A scan of an enabled entry failed: it stops until an operator enables it again.
UPDATE rocketjob_dirmon_entries
SET state = 'failed', last_error = %(error)s, last_scan_at = %(now)s, updated_at = %(now)s
WHERE id = %(id)s AND state = 'enabled';

-- name: dirmon_observations
SELECT path, size, mtime_ns, scan_id, seen_at FROM rocketjob_dirmon_files WHERE entry_id = %(entry_id)s;

-- name: save_dirmon_observation
INSERT INTO rocketjob_dirmon_files (entry_id, path, size, mtime_ns, scan_id, seen_at)
VALUES (%(entry_id)s, %(path)s, %(size)s, %(mtime_ns)s, %(scan_id)s, %(now)s)
ON CONFLICT (entry_id, path) DO UPDATE SET
    size = excluded.size, mtime_ns = excluded.mtime_ns, scan_id = excluded.scan_id,
    seen_at = excluded.seen_at;

-- name: forget_dirmon_observation
DELETE FROM rocketjob_dirmon_files WHERE entry_id = %(entry_id)s AND path = %(path)s;

-- name: dirmon_take_lock
-- Takes run side by side; recovery waits for those in flight, and they for it.
SELECT pg_advisory_xact_lock_shared(%(key)s);

-- name: dirmon_recovery_lock
SELECT pg_advisory_xact_lock(%(key)s);

-- name: insert_dirmon_take
INSERT INTO rocketjob_dirmon_takes (archive_path, entry_id, job_id, source_path, taken_by,
                                    taken_at, uploaded)
VALUES (%(archive_path)s, %(entry_id)s, %(job_id)s, %(source_path)s, %(taken_by)s, %(now)s, %(uploaded)s);

-- name: count_dirmon_take
UPDATE rocketjob_dirmon_entries SET files_started = files_started + 1, last_job_id = %(job_id)s
WHERE id = %(id)s;

-- name: dirmon_takes_of_paths
SELECT archive_path FROM rocketjob_dirmon_takes
WHERE archive_path = ANY(%(paths)s::text[]);

-- name: dirmon_uploaded
UPDATE rocketjob_dirmon_takes SET uploaded = true WHERE archive_path = %(archive_path)s;

-- name: dirmon_unfinished_uploads
-- Batch uploads not finished yet, and whether the scanner doing each is a live worker.
SELECT t.archive_path, t.job_id, t.taken_by, t.taken_at,
       EXISTS (SELECT 1 FROM rocketjob_workers AS w WHERE w.name = t.taken_by) AS by_worker
FROM rocketjob_dirmon_takes AS t
WHERE t.entry_id = %(entry_id)s AND NOT t.uploaded;

-- name: dirmon_retake_upload
-- Claims a dead scanner's unfinished upload for this one (one recoverer wins).
UPDATE rocketjob_dirmon_takes SET taken_by = %(taken_by)s, taken_at = %(now)s
WHERE archive_path = %(archive_path)s AND taken_by = %(previous)s AND NOT uploaded;

-- name: dirmon_set_job_fields
-- In the take's transaction: the job learns the name of its archived file (its own id in it).
UPDATE rocketjob_jobs SET fields = %(fields)s::jsonb WHERE id = %(id)s;

-- name: wait_facts
SELECT id, state, throttle, priority, run_at, waiting_on FROM rocketjob_jobs WHERE id = %(id)s;

-- name: running_in_throttle
SELECT id FROM rocketjob_jobs
WHERE throttle = %(throttle)s AND state = 'running'
ORDER BY id LIMIT %(limit)s;

-- name: count_ahead
-- Due unthrottled jobs before this one in claim order (priority, run_at NULLS FIRST, id),
-- up to a cap: each branch is a range of the claim index, and the LIMIT stops the read.
SELECT count(*) AS n FROM (
    (SELECT 1 FROM rocketjob_jobs
     WHERE state = 'queued' AND throttle IS NULL AND waiting_on = 0
       AND priority < %(priority)s AND (run_at IS NULL OR run_at <= %(now)s)
     LIMIT %(cap)s)
    UNION ALL
    (SELECT 1 FROM rocketjob_jobs
     WHERE state = 'queued' AND throttle IS NULL AND waiting_on = 0
       AND priority = %(priority)s AND run_at IS NULL
       AND (%(run_at)s::timestamptz IS NOT NULL OR id < %(id)s)
     LIMIT %(cap)s)
    UNION ALL
    (SELECT 1 FROM rocketjob_jobs
     WHERE state = 'queued' AND throttle IS NULL AND waiting_on = 0
       AND priority = %(priority)s AND run_at < %(run_at)s::timestamptz
     LIMIT %(cap)s)
    UNION ALL
    (SELECT 1 FROM rocketjob_jobs
     WHERE state = 'queued' AND throttle IS NULL AND waiting_on = 0
       AND priority = %(priority)s AND run_at = %(run_at)s::timestamptz AND id < %(id)s
     LIMIT %(cap)s)
    LIMIT %(cap)s
) AS ahead;

-- name: count_ahead_throttled
-- As count_ahead, among the due jobs of the same throttle (the throttled claim's index).
SELECT count(*) AS n FROM (
    (SELECT 1 FROM rocketjob_jobs
     WHERE state = 'queued' AND throttle = %(throttle)s AND waiting_on = 0
       AND priority < %(priority)s AND (run_at IS NULL OR run_at <= %(now)s)
     LIMIT %(cap)s)
    UNION ALL
    (SELECT 1 FROM rocketjob_jobs
     WHERE state = 'queued' AND throttle = %(throttle)s AND waiting_on = 0
       AND priority = %(priority)s AND run_at IS NULL
       AND (%(run_at)s::timestamptz IS NOT NULL OR id < %(id)s)
     LIMIT %(cap)s)
    UNION ALL
    (SELECT 1 FROM rocketjob_jobs
     WHERE state = 'queued' AND throttle = %(throttle)s AND waiting_on = 0
       AND priority = %(priority)s AND run_at < %(run_at)s::timestamptz
     LIMIT %(cap)s)
    UNION ALL
    (SELECT 1 FROM rocketjob_jobs
     WHERE state = 'queued' AND throttle = %(throttle)s AND waiting_on = 0
       AND priority = %(priority)s AND run_at = %(run_at)s::timestamptz AND id < %(id)s
     LIMIT %(cap)s)
    LIMIT %(cap)s
) AS ahead;

-- name: live_workers
SELECT name, state, desired_state, include_classes, exclude_classes
FROM rocketjob_workers WHERE heartbeat_at > %(cutoff)s ORDER BY name;
