-- Every query rocketjob runs on SQLite, each under a `-- name:` header.
-- Parameters are :name; times are UTC text from the caller's clock; JSON is text.

-- name: insert_job
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields, sub_state, throttle)
VALUES (:class_name, :description, :priority, :run_at, :expires_at,
        :destroy_on_complete, :created_at, :fields, :sub_state, :throttle)
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on;

-- name: insert_jobs
-- Run once per row inside one transaction (executemany).
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields, sub_state, throttle)
VALUES (:class_name, :description, :priority, :run_at, :expires_at,
        :destroy_on_complete, :created_at, :fields, :sub_state, :throttle);

-- name: last_job_id
SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'rocketjob_jobs'), 0) AS id;

-- name: select_job
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
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
    attempt = :attempt,
    worker_name = :worker_name,
    exception = :exception,
    exception_class = json_extract(:exception, '$.class_name'),
    percent_complete = coalesce(:percent_complete, percent_complete),
    version = version + 1,
    history = json_insert(history, '$[#]', json(:entry))
WHERE id = :id AND version = :version
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on;

-- name: delete_job
DELETE FROM rocketjob_jobs WHERE id = :id AND version = :version
RETURNING linked;

-- name: list_jobs
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE id < :before_id
ORDER BY id DESC LIMIT :limit;

-- name: list_jobs_of_class
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE class_name = :class_name AND id < :before_id
ORDER BY id DESC LIMIT :limit;

-- name: list_jobs_in_state
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
WHERE state = :state AND id < :before_id
  AND (:class_name IS NULL OR class_name = :class_name)
ORDER BY id DESC LIMIT :limit;

-- name: list_jobs_due
-- Queued jobs that may run now (run_at empty or past).
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
WHERE state = 'queued' AND (run_at IS NULL OR run_at <= :now) AND id < :before_id
  AND (:class_name IS NULL OR class_name = :class_name)
ORDER BY id DESC LIMIT :limit;

-- name: list_jobs_scheduled
-- Queued jobs waiting for run_at, the soonest first.
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
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
    history = json_insert(history, '$[#]', json(:entry))
WHERE id IN (
    SELECT id FROM rocketjob_jobs INDEXED BY rocketjob_jobs_claim
    WHERE state = 'queued' AND throttle IS NULL AND waiting_on = 0
      AND (run_at IS NULL OR run_at <= :now)
      AND (:include IS NULL OR class_name REGEXP :include)
      AND (:exclude IS NULL OR NOT class_name REGEXP :exclude)
    ORDER BY priority, run_at, id
    LIMIT :limit)
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on;

-- name: claim_throttled_jobs
-- A throttle's due jobs, at most as many as its limit leaves; one statement under the
-- write lock, so the count is of every claim before it.
UPDATE rocketjob_jobs SET
    state = 'running',
    started_at = :now,
    completed_at = NULL,
    worker_name = :worker_name,
    lease = lease + 1,
    version = version + 1,
    history = json_insert(history, '$[#]', json(:entry))
WHERE id IN (
    SELECT id FROM rocketjob_jobs INDEXED BY rocketjob_jobs_throttled
    WHERE state = 'queued' AND throttle = :throttle AND waiting_on = 0
      AND (run_at IS NULL OR run_at <= :now)
      AND (:include IS NULL OR class_name REGEXP :include)
      AND (:exclude IS NULL OR NOT class_name REGEXP :exclude)
    ORDER BY priority, run_at, id
    LIMIT max(0, min(:limit, :throttle_limit - (
        SELECT count(*) FROM rocketjob_jobs
        WHERE throttle = :throttle AND state = 'running'))))
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on;

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
WHERE id = :id AND state = 'queued' AND waiting_on = 0
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on;

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
    history = json_insert(history, '$[#]', json(:entry))
WHERE id = :id AND lease = :lease AND state = 'running';

-- name: fail_claimed_job
UPDATE rocketjob_jobs SET
    state = 'failed',
    completed_at = :now,
    failure_count = failure_count + 1,
    exception = :exception,
    exception_class = json_extract(:exception, '$.class_name'),
    version = version + 1,
    history = json_insert(history, '$[#]', json_object(
        'at', :now, 'from', 'running', 'to', 'failed', 'action', 'fail', 'by', :worker_name,
        'message', :message))
WHERE id = :id AND lease = :lease AND state = 'running';

-- name: retry_claimed_job
-- A failure with a retry left: recorded, and the job back in the queue, due at run_at, in
-- one statement, only while the worker still holds it.
UPDATE rocketjob_jobs SET
    state = 'queued',
    run_at = :run_at,
    worker_name = NULL,
    percent_complete = 0,
    failure_count = failure_count + 1,
    attempt = attempt + 1,
    exception = :exception,
    exception_class = json_extract(:exception, '$.class_name'),
    version = version + 1,
    history = json_insert(history, '$[#]', json_object(
        'at', :now, 'from', 'running', 'to', 'queued', 'action', 'fail', 'by', :worker_name,
        'message', :message, 'attempt', attempt + 1, 'retry_at', :run_at))
WHERE id = :id AND lease = :lease AND state = 'running';

-- name: job_leases
-- After completions that did not all go through: which jobs moved on meanwhile.
SELECT id, lease, state FROM rocketjob_jobs WHERE id IN (SELECT value FROM json_each(:ids));

-- name: record_progress
-- Progress of a claimed job; the state it returns tells the worker whether to go on.
UPDATE rocketjob_jobs SET percent_complete = :percent_complete
WHERE id = :id AND lease = :lease AND state = 'running'
RETURNING state;

-- name: claimed_state
SELECT state FROM rocketjob_jobs WHERE id = :id AND lease = :lease;

-- name: register_worker
INSERT INTO rocketjob_workers (name, host, pid, state, desired_state, threads, async_slots,
                               started_at, heartbeat_at, include_classes, exclude_classes)
VALUES (:name, :host, :pid, 'starting', NULL, :threads, :async_slots, :now, :now, :include,
        :exclude)
ON CONFLICT (name) DO UPDATE SET
    host = excluded.host, pid = excluded.pid, state = 'starting', desired_state = NULL,
    threads = excluded.threads, async_slots = excluded.async_slots,
    started_at = excluded.started_at,
    heartbeat_at = excluded.heartbeat_at,
    include_classes = excluded.include_classes, exclude_classes = excluded.exclude_classes;

-- name: heartbeat
-- The worker reports its state and learns what operators asked of it.
UPDATE rocketjob_workers SET state = :state, heartbeat_at = :now
WHERE name = :name
RETURNING desired_state;

-- name: deregister_worker
DELETE FROM rocketjob_workers WHERE name = :name;

-- name: list_workers
SELECT name, host, pid, state, desired_state, threads, async_slots, started_at, heartbeat_at
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
-- Jobs run inline by perform_now() belong to no worker and are left alone, and so are
-- the reaper's own: it is alive.
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
  AND worker_name <> :by
  AND NOT EXISTS (
      SELECT 1 FROM rocketjob_workers AS w
      WHERE w.name = rocketjob_jobs.worker_name AND w.heartbeat_at >= :cutoff)
RETURNING id, class_name;

-- name: count_orphans
-- Whether the reaper would requeue anything now (the same conditions as it uses).
SELECT EXISTS (
           SELECT 1 FROM rocketjob_jobs AS job
           WHERE job.state = 'running' AND job.started_at < :cutoff
             AND job.worker_name NOT LIKE 'inline:%' AND job.worker_name <> :by
             AND NOT EXISTS (SELECT 1 FROM rocketjob_workers AS w
                             WHERE w.name = job.worker_name AND w.heartbeat_at >= :cutoff))
       OR EXISTS (
           SELECT 1 FROM rocketjob_slices AS s
           WHERE s.state = 'running' AND s.started_at < :cutoff
             AND s.worker_name NOT LIKE 'inline:%' AND s.worker_name <> :by
             AND NOT EXISTS (SELECT 1 FROM rocketjob_workers AS w
                             WHERE w.name = s.worker_name AND w.heartbeat_at >= :cutoff))
       AS orphans;

-- name: delete_dead_workers
DELETE FROM rocketjob_workers WHERE heartbeat_at < :cutoff AND name <> :by
RETURNING name;

-- name: notify_jobs
-- No notifications on SQLite: workers poll.
SELECT 1;

-- name: hand_back_jobs
-- A stopping worker returns jobs it holds to the queue; only rows it still holds.
-- Run once per claim (executemany). A job claimed outside its processing window goes
-- back with run_at at the next opening.
UPDATE rocketjob_jobs SET
    state = 'queued',
    worker_name = NULL,
    run_at = COALESCE(:run_at, run_at),
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
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs
WHERE id < :before_id
  AND (class_name IN (SELECT value FROM json_each(:classes))
       OR description LIKE :pattern ESCAPE '\')
ORDER BY id DESC LIMIT :limit;

-- name: search_jobs_in_state
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
WHERE state = :state AND id < :before_id
  AND (class_name IN (SELECT value FROM json_each(:classes))
       OR description LIKE :pattern ESCAPE '\')
ORDER BY id DESC LIMIT :limit;

-- name: search_jobs_due
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
WHERE state = 'queued' AND (run_at IS NULL OR run_at <= :now) AND id < :before_id
  AND (class_name IN (SELECT value FROM json_each(:classes))
       OR description LIKE :pattern ESCAPE '\')
ORDER BY id DESC LIMIT :limit;

-- name: search_jobs_scheduled
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_scheduled
WHERE state = 'queued' AND run_at IS NOT NULL AND run_at > :now
  AND (run_at, id) > (:after_run_at, :after_id)
  AND (class_name IN (SELECT value FROM json_each(:classes))
       OR description LIKE :pattern ESCAPE '\')
ORDER BY run_at, id LIMIT :limit;

-- Failures (Mission Control) -----------------------------------------------------------

-- name: failure_groups
-- Failed jobs per job class and exception class, counted over recent windows (a failed
-- job's completed_at is when it failed); the newest job of a group gives its sample.
SELECT g.class_name, g.exception_class, g.total, g.last_hour, g.last_day, g.last_week,
       g.latest_id, json_extract(latest.exception, '$.message') AS latest_message,
       latest.completed_at AS latest_at
FROM (
    SELECT class_name, exception_class,
           count(*) AS total,
           count(CASE WHEN completed_at >= :hour_ago THEN 1 END) AS last_hour,
           count(CASE WHEN completed_at >= :day_ago THEN 1 END) AS last_day,
           count(CASE WHEN completed_at >= :week_ago THEN 1 END) AS last_week,
           max(id) AS latest_id
    FROM rocketjob_jobs INDEXED BY rocketjob_jobs_failures
    WHERE state = 'failed'
    GROUP BY class_name, exception_class
) AS g
JOIN rocketjob_jobs AS latest ON latest.id = g.latest_id
ORDER BY g.last_day DESC, g.total DESC, g.class_name, g.exception_class
LIMIT :limit;

-- name: list_failed_in_group
-- One group of the Failures view, newest first, along the failures index.
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_failures
WHERE state = 'failed' AND class_name = :class_name
  AND exception_class = :exception_class AND id < :before_id
ORDER BY id DESC LIMIT :limit;

-- name: list_failed_with_exception
-- Failed jobs of any class that raised one exception class.
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
WHERE state = 'failed' AND exception_class = :exception_class
  AND id < :before_id
ORDER BY id DESC LIMIT :limit;

-- name: failed_jobs_after
-- The next chunk of a bulk action on failed jobs, oldest first, after the last one it
-- handled; every filter is optional (a search matches the classes found for it or the
-- description).
SELECT id, class_name, description, priority, state, sub_state, run_at, expires_at,
       destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt, worker_name,
       lease, version, percent_complete, exception, fields, singleton_key, waiting_on
FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
WHERE state = 'failed' AND id > :after_id
  AND (:class_name IS NULL OR class_name = :class_name)
  AND (:exception_class IS NULL
       OR exception_class = :exception_class)
  AND (:pattern IS NULL OR class_name IN (SELECT value FROM json_each(:classes))
       OR description LIKE :pattern ESCAPE '\')
ORDER BY id LIMIT :limit;

-- name: count_failed_matching
-- How many failed jobs of a job class and/or exception class there are, counted up to a
-- cap so a huge list stays cheap.
SELECT count(*) AS n FROM (
    SELECT 1 FROM rocketjob_jobs INDEXED BY rocketjob_jobs_failures
    WHERE state = 'failed'
      AND (:class_name IS NULL OR class_name = :class_name)
      AND (:exception_class IS NULL OR exception_class = :exception_class)
    LIMIT :cap
);

-- name: count_failed_search
-- How many failed jobs a search matches, up to a cap, as the Failed list is searched.
SELECT count(*) AS n FROM (
    SELECT 1 FROM rocketjob_jobs INDEXED BY rocketjob_jobs_state
    WHERE state = 'failed'
      AND (class_name IN (SELECT value FROM json_each(:classes))
           OR description LIKE :pattern ESCAPE '\')
    ORDER BY id DESC LIMIT :cap
);

-- Batch jobs ---------------------------------------------------------------------------

-- name: insert_batch
-- Starts an upload; nothing comes back if the job already has (or is receiving) one, or
-- is gone.
INSERT INTO rocketjob_batches (job_id, slice_size, input_header, output_header,
                               upload_started_at)
SELECT id, :slice_size, :input_header, :output_header, :now
FROM rocketjob_jobs WHERE id = :job_id
ON CONFLICT (job_id) DO NOTHING
RETURNING job_id;

-- name: insert_slices
-- Run once per slice inside one transaction (executemany).
INSERT INTO rocketjob_slices (job_id, position, first_record, record_count, records)
VALUES (:job_id, :position, :first_record, :record_count, :records);

-- name: count_uploaded
UPDATE rocketjob_batches SET uploaded_records = :records WHERE job_id = :job_id;

-- name: finish_upload
UPDATE rocketjob_batches SET record_count = :records, uploaded_records = :records,
                             uploaded_at = :now
WHERE job_id = :job_id;

-- name: drop_slices
DELETE FROM rocketjob_slices WHERE job_id = :job_id;

-- name: drop_batch
DELETE FROM rocketjob_batches WHERE job_id = :job_id;

-- name: select_batch
SELECT job_id, slice_size, input_header, output_header, record_count, uploaded_records,
       records_done, upload_started_at, uploaded_at, run_started_at, run_records
FROM rocketjob_batches WHERE job_id = :job_id;

-- name: set_output_header
-- The first slice to write CSV output fixes the header; every later one gets that one.
UPDATE rocketjob_batches SET output_header = coalesce(output_header, :header)
WHERE job_id = :job_id
RETURNING output_header;

-- name: claim_slices
-- The most urgent processing job that has queued slices, then its slices in input order.
-- One statement, so one write lock.
UPDATE rocketjob_slices SET
    state = 'running',
    worker_name = :worker_name,
    lease = lease + 1,
    started_at = :now
WHERE id IN (
    SELECT s.id FROM rocketjob_slices AS s INDEXED BY rocketjob_slices_queued
    WHERE s.state = 'queued' AND s.job_id = (
        SELECT j.id FROM rocketjob_jobs AS j INDEXED BY rocketjob_jobs_processing
        WHERE j.state = 'running' AND j.sub_state = 'processing'
          AND (j.run_at IS NULL OR j.run_at <= :now)  -- failed slices wait out a retry delay
          AND (:include IS NULL OR j.class_name REGEXP :include)
          AND (:exclude IS NULL OR NOT j.class_name REGEXP :exclude)
          AND EXISTS (SELECT 1 FROM rocketjob_slices AS q INDEXED BY rocketjob_slices_queued
                      WHERE q.job_id = j.id AND q.state = 'queued')
          -- no slice is claimed before its upload was read whole: a failed upload ran nothing
          AND EXISTS (SELECT 1 FROM rocketjob_batches AS b
                      WHERE b.job_id = j.id AND b.record_count IS NOT NULL)
        ORDER BY j.priority, j.id
        LIMIT 1)
    ORDER BY s.position
    LIMIT :limit)
RETURNING id, job_id, position, first_record, record_count, lease, started_at, processed,
          records, output, output_count,
          -- read afresh with every claim: a replaced upload may have another header
          (SELECT b.input_header FROM rocketjob_batches AS b
           WHERE b.job_id = rocketjob_slices.job_id) AS input_header,
          (SELECT b.output_header FROM rocketjob_batches AS b
           WHERE b.job_id = rocketjob_slices.job_id) AS output_header;

-- name: complete_slice
-- The output is written by the statement that completes the slice, under its lease.
UPDATE rocketjob_slices SET
    state = 'completed',
    completed_at = :now,
    processed = record_count,
    records = NULL,
    output = :output,
    output_count = :output_count
WHERE id = :id AND lease = :lease AND state = 'running'
RETURNING job_id, record_count, started_at;

-- name: count_completed_slice
-- In the transaction that completed the slice (see the PostgreSQL complete_slice).
UPDATE rocketjob_batches SET
    records_done = records_done + :records,
    run_started_at = coalesce(run_started_at, :started_at)
WHERE job_id = :job_id
RETURNING job_id, records_done, record_count, failed_slices;

-- name: set_batch_percent
UPDATE rocketjob_jobs SET percent_complete = :percent_complete
WHERE id = :job_id AND state = 'running' AND percent_complete <> :percent_complete;

-- name: fail_slice
-- A record raised: the output of the records before it is kept, to be appended to.
UPDATE rocketjob_slices SET
    state = 'failed',
    completed_at = :now,
    processed = :processed,
    output = :output,
    output_count = :output_count,
    failed_record = :failed_record,
    exception = :exception
WHERE id = :id AND lease = :lease AND state = 'running'
RETURNING job_id;

-- name: count_failed_slice
UPDATE rocketjob_batches SET failed_slices = failed_slices + 1
WHERE job_id = :job_id
RETURNING job_id;

-- name: slices_left
-- Equalities on both columns of the state index, so each probe stops at one entry.
SELECT (EXISTS (SELECT 1 FROM rocketjob_slices WHERE job_id = :job_id AND state = 'queued')
        OR EXISTS (SELECT 1 FROM rocketjob_slices WHERE job_id = :job_id AND state = 'running'))
       AS busy,
       (SELECT count(*) FROM rocketjob_slices
        WHERE job_id = :job_id AND state = 'failed') AS failed,
       (SELECT record_count FROM rocketjob_batches WHERE job_id = :job_id) AS record_count;

-- name: start_batch_after
-- Exactly one worker moves a finished batch from processing to after, and holds it.
UPDATE rocketjob_jobs SET
    sub_state = 'after',
    worker_name = :worker_name,
    lease = lease + 1,
    version = version + 1
WHERE id = :job_id AND state = 'running' AND sub_state = 'processing'
  AND EXISTS (SELECT 1 FROM rocketjob_batches AS b
              WHERE b.job_id = :job_id AND b.record_count IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM rocketjob_slices AS s
                  WHERE s.job_id = :job_id AND s.state <> 'completed')
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on;

-- name: fail_batch_job
-- Only failed slices are left: the job fails, once.
UPDATE rocketjob_jobs SET
    state = 'failed',
    completed_at = :now,
    failure_count = failure_count + 1,
    exception = :exception,
    exception_class = json_extract(:exception, '$.class_name'),
    version = version + 1,
    history = json_insert(history, '$[#]', json_object(
        'at', :now, 'from', 'running', 'to', 'failed', 'action', 'fail', 'by', :worker_name,
        'message', :message))
WHERE id = :job_id AND state = 'running' AND sub_state = 'processing'
  AND EXISTS (SELECT 1 FROM rocketjob_batches AS b
              WHERE b.job_id = :job_id AND b.record_count IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM rocketjob_slices AS s
                  WHERE s.job_id = :job_id AND s.state IN ('queued', 'running'))
  AND (SELECT count(*) FROM rocketjob_slices AS s
       WHERE s.job_id = :job_id AND s.state = 'failed') = :failed;

-- name: retry_batch_job
-- Only failed slices are left and the job has a retry left: it stays in processing, its
-- failed slices wait until run_at (see claim_slices), once. Same guard as fail_batch_job.
UPDATE rocketjob_jobs SET
    run_at = :run_at,
    failure_count = failure_count + 1,
    attempt = attempt + 1,
    version = version + 1,
    history = json_insert(history, '$[#]', json_object(
        'at', :now, 'from', 'running', 'to', 'running', 'action', 'fail', 'by', :worker_name,
        'message', :message, 'attempt', attempt + 1, 'retry_at', :run_at))
WHERE id = :job_id AND version = :version AND state = 'running' AND sub_state = 'processing'
  AND EXISTS (SELECT 1 FROM rocketjob_batches AS b
              WHERE b.job_id = :job_id AND b.record_count IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM rocketjob_slices AS s
                  WHERE s.job_id = :job_id AND s.state IN ('queued', 'running'))
  AND (SELECT count(*) FROM rocketjob_slices AS s
       WHERE s.job_id = :job_id AND s.state = 'failed') = :failed;

-- name: settle_candidates
-- Processing jobs with nothing queued or running: a missed last slice, a late upload end.
SELECT j.id FROM rocketjob_jobs AS j INDEXED BY rocketjob_jobs_processing
JOIN rocketjob_batches AS b ON b.job_id = j.id
WHERE j.state = 'running' AND j.sub_state = 'processing' AND b.record_count IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM rocketjob_slices AS s
                  WHERE s.job_id = j.id AND s.state IN ('queued', 'running'))
ORDER BY j.priority, j.id;

-- name: begin_batch_before
UPDATE rocketjob_jobs SET sub_state = 'before'
WHERE id = :id AND lease = :lease AND state = 'running' AND sub_state IS NULL;

-- name: begin_batch_processing
-- before_batch() ran: the job is released to every worker's slice claims. A pause that
-- came meanwhile is kept; before_batch() is not run again on resume.
UPDATE rocketjob_jobs SET
    sub_state = 'processing',
    worker_name = NULL,
    version = version + 1
WHERE id = :id AND lease = :lease AND state IN ('running', 'paused')
  AND coalesce(sub_state, 'before') = 'before';

-- name: restart_batch_run
UPDATE rocketjob_batches SET run_started_at = NULL, run_records = records_done
WHERE job_id = :job_id;

-- name: requeue_failed_slices
UPDATE rocketjob_slices SET
    state = 'queued', worker_name = NULL, failed_record = NULL, exception = NULL
WHERE job_id = :job_id AND state = 'failed' AND (:position IS NULL OR position = :position)
RETURNING id;

-- name: uncount_failed_slices
UPDATE rocketjob_batches SET failed_slices = failed_slices - :n WHERE job_id = :job_id;

-- name: slice_held
-- Whether a worker still holds a slice it claimed (asked before it starts, after a lapse).
SELECT 1 AS held FROM rocketjob_slices WHERE id = :id AND lease = :lease AND state = 'running';

-- name: requeue_slices_of_dead_workers
-- Running slices whose worker stopped heartbeating go back to the queue; the next claim
-- bumps the lease, so the old holder can no longer complete them.
UPDATE rocketjob_slices SET state = 'queued', worker_name = NULL
WHERE state = 'running'
  AND started_at < :cutoff
  AND worker_name NOT LIKE 'inline:%'
  AND worker_name <> :by
  AND NOT EXISTS (
      SELECT 1 FROM rocketjob_workers AS w
      WHERE w.name = rocketjob_slices.worker_name AND w.heartbeat_at >= :cutoff)
RETURNING id, job_id, position;

-- name: slice_counts
SELECT state, count(*) AS slices, coalesce(sum(record_count), 0) AS records
FROM rocketjob_slices WHERE job_id = :job_id GROUP BY state;

-- name: failed_slices
SELECT position, first_record, record_count, processed, failed_record, exception,
       worker_name, started_at, completed_at
FROM rocketjob_slices
WHERE job_id = :job_id AND state = 'failed' AND position > :after
ORDER BY position LIMIT :limit;

-- name: failed_slices_by_exception
SELECT json_extract(exception, '$.class_name') AS class_name, count(*) AS slices,
       min(position) AS first_position
FROM rocketjob_slices WHERE job_id = :job_id AND state = 'failed'
GROUP BY 1 ORDER BY count(*) DESC, 1;

-- name: failed_slice_records
SELECT position, first_record, processed, records, exception
FROM rocketjob_slices
WHERE job_id = :job_id AND state = 'failed' AND position > :after
  AND (:position IS NULL OR position = :position)
ORDER BY position LIMIT :limit;

-- name: output_slices
SELECT position, output, output_count FROM rocketjob_slices
WHERE job_id = :job_id AND state = 'completed' AND position > :after
ORDER BY position LIMIT :limit;

-- name: workers_on_batches
SELECT job_id, count(DISTINCT worker_name) AS workers FROM rocketjob_slices
WHERE state = 'running' AND job_id IN (SELECT value FROM json_each(:ids))
GROUP BY job_id;

-- name: hand_back_slices
-- A pausing or stopping worker returns the slices it holds and has not finished.
-- Run once per slice (executemany).
UPDATE rocketjob_slices SET state = 'queued', worker_name = NULL
WHERE id = :id AND lease = :lease AND state = 'running';

-- Cron -----------------------------------------------------------------------------------

-- name: cron_schedules
SELECT class_name, cron, timezone FROM rocketjob_cron ORDER BY class_name;

-- name: save_cron_schedule
INSERT INTO rocketjob_cron (class_name, cron, timezone, updated_at)
VALUES (:class_name, :cron, :timezone, :now)
ON CONFLICT (class_name) DO UPDATE SET
    cron = excluded.cron, timezone = excluded.timezone, updated_at = excluded.updated_at;

-- name: insert_cron_job
-- The instance waiting for the next occurrence; none if one waits already.
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields, cron, throttle)
VALUES (:class_name, :description, :priority, :run_at, :expires_at,
        :destroy_on_complete, :created_at, :fields, :cron, :throttle)
ON CONFLICT (class_name)
    WHERE cron IS NOT NULL AND state IN ('queued', 'paused') AND started_at IS NULL
    DO NOTHING
RETURNING id;

-- name: reschedule_cron_job
-- The schedule changed in code: the waiting instance waits for the new next occurrence.
UPDATE rocketjob_jobs SET run_at = :run_at, cron = :cron, version = version + 1
WHERE class_name = :class_name AND cron IS NOT NULL AND state IN ('queued', 'paused')
  AND started_at IS NULL;

-- name: drop_cron_jobs
-- The class no longer has a schedule: its waiting instance goes.
DELETE FROM rocketjob_jobs
WHERE class_name = :class_name AND cron IS NOT NULL AND state IN ('queued', 'paused')
  AND started_at IS NULL;

-- name: drop_cron_schedule
DELETE FROM rocketjob_cron WHERE class_name = :class_name;

-- name: cron_started
UPDATE rocketjob_cron SET last_job_id = :id, last_started_at = :now, last_outcome = 'running',
                          last_finished_at = NULL
WHERE class_name = :class_name;

-- name: cron_finished
UPDATE rocketjob_cron SET last_outcome = :outcome, last_finished_at = :now
WHERE class_name = :class_name AND last_job_id = :id;

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
-- A job of a singleton class: nothing is inserted while another job holds its slot.
INSERT INTO rocketjob_jobs (class_name, description, priority, run_at, expires_at,
                            destroy_on_complete, created_at, fields, sub_state, singleton_key,
                            throttle)
VALUES (:class_name, :description, :priority, :run_at, :expires_at,
        :destroy_on_complete, :created_at, :fields, :sub_state, :singleton_key, :throttle)
ON CONFLICT (singleton_key)
    WHERE singleton_key IS NOT NULL AND state IN ('queued', 'running', 'paused')
    DO NOTHING
RETURNING id, class_name, description, priority, state, sub_state, run_at, expires_at,
          destroy_on_complete, created_at, started_at, completed_at, failure_count, attempt,
          worker_name, lease, version, percent_complete, exception, fields, singleton_key, waiting_on;

-- name: singleton_holder
SELECT id, state FROM rocketjob_jobs
WHERE singleton_key = :singleton_key AND state IN ('queued', 'running', 'paused');

-- name: link_prerequisites
UPDATE rocketjob_jobs SET linked = 1 WHERE id IN (SELECT value FROM json_each(:ids))
RETURNING id, state;

-- name: linked_jobs
-- Of jobs about to complete, those with edges (SQLite's completions return nothing).
SELECT id FROM rocketjob_jobs WHERE id IN (SELECT value FROM json_each(:ids)) AND linked;

-- name: add_dependencies
INSERT INTO rocketjob_dependencies (job_id, depends_on_id, done)
SELECT :job_id, given.value, done.value
FROM json_each(:ids) AS given JOIN json_each(:done) AS done ON done.key = given.key;

-- name: set_waiting_on
UPDATE rocketjob_jobs SET waiting_on = :waiting_on, linked = 1 WHERE id = :job_id;

-- name: release_dependants
-- Of these prerequisites, those completed or gone are done: their dependants wait on one
-- fewer.
UPDATE rocketjob_jobs SET waiting_on = waiting_on - (
    SELECT count(*) FROM rocketjob_dependencies AS d
    WHERE d.job_id = rocketjob_jobs.id AND NOT d.done
      AND d.depends_on_id IN (SELECT value FROM json_each(:ids))
      AND NOT EXISTS (SELECT 1 FROM rocketjob_jobs AS j
                      WHERE j.id = d.depends_on_id AND j.state <> 'completed'))
WHERE id IN (
    SELECT d.job_id FROM rocketjob_dependencies AS d
    WHERE d.depends_on_id IN (SELECT value FROM json_each(:ids)) AND NOT d.done
      AND NOT EXISTS (SELECT 1 FROM rocketjob_jobs AS j
                      WHERE j.id = d.depends_on_id AND j.state <> 'completed'))
RETURNING id, waiting_on;

-- name: mark_released
UPDATE rocketjob_dependencies SET done = 1
WHERE depends_on_id IN (SELECT value FROM json_each(:ids)) AND NOT done
  AND NOT EXISTS (SELECT 1 FROM rocketjob_jobs AS j
                  WHERE j.id = depends_on_id AND j.state <> 'completed');

-- name: forget_dependencies
DELETE FROM rocketjob_dependencies
WHERE job_id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM rocketjob_jobs AS j WHERE j.id = job_id);

-- name: prerequisites_of
SELECT d.depends_on_id AS id, d.done, j.state, j.class_name
FROM rocketjob_dependencies AS d LEFT JOIN rocketjob_jobs AS j ON j.id = d.depends_on_id
WHERE d.job_id = :id
ORDER BY d.depends_on_id;

-- name: dependants_of
SELECT d.job_id AS id, d.done, j.state, j.class_name
FROM rocketjob_dependencies AS d JOIN rocketjob_jobs AS j ON j.id = d.job_id
WHERE d.depends_on_id = :id
ORDER BY d.job_id LIMIT :limit;

-- name: insert_dirmon_entry
-- None when the name is taken: names are unique.
INSERT INTO rocketjob_dirmon_entries (name, pattern, job_class, properties, archive_directory,
                                      state, created_at, updated_at)
VALUES (:name, :pattern, :job_class, :properties, :archive_directory, 'pending', :now, :now)
ON CONFLICT (name) DO NOTHING
RETURNING *;

-- name: update_dirmon_entry
UPDATE rocketjob_dirmon_entries
SET name = :name, pattern = :pattern, job_class = :job_class, properties = :properties,
    archive_directory = :archive_directory, updated_at = :now
WHERE id = :id
RETURNING *;

-- name: select_dirmon_entry
SELECT * FROM rocketjob_dirmon_entries WHERE id = :id;

-- name: select_dirmon_entry_by_name
SELECT * FROM rocketjob_dirmon_entries WHERE name = :name;

-- name: list_dirmon_entries
SELECT * FROM rocketjob_dirmon_entries ORDER BY name;

-- name: set_dirmon_state
-- An operator's enable or disable: only from the states the action allows.
UPDATE rocketjob_dirmon_entries
SET state = :state, last_error = NULL, updated_at = :now
WHERE id = :id AND state IN (SELECT value FROM json_each(:from_states))
RETURNING *;

-- name: delete_dirmon_entry
DELETE FROM rocketjob_dirmon_entries WHERE id = :id;

-- name: dirmon_scanned
UPDATE rocketjob_dirmon_entries SET last_scan_at = :now WHERE id = :id;

-- name: dirmon_failed
-- A scan of an enabled entry failed: it stops until an operator enables it again.
UPDATE rocketjob_dirmon_entries
SET state = 'failed', last_error = :error, last_scan_at = :now, updated_at = :now
WHERE id = :id AND state = 'enabled';

-- name: dirmon_observations
SELECT path, size, mtime_ns, scan_id, seen_at FROM rocketjob_dirmon_files WHERE entry_id = :entry_id;

-- name: save_dirmon_observation
INSERT INTO rocketjob_dirmon_files (entry_id, path, size, mtime_ns, scan_id, seen_at)
VALUES (:entry_id, :path, :size, :mtime_ns, :scan_id, :now)
ON CONFLICT (entry_id, path) DO UPDATE SET
    size = excluded.size, mtime_ns = excluded.mtime_ns, scan_id = excluded.scan_id,
    seen_at = excluded.seen_at;

-- name: forget_dirmon_observation
DELETE FROM rocketjob_dirmon_files WHERE entry_id = :entry_id AND path = :path;

-- name: dirmon_take_lock
-- Takes run side by side; recovery waits for those in flight (SQLite: the write lock does).
SELECT 1;

-- name: dirmon_recovery_lock
SELECT 1;

-- name: insert_dirmon_take
INSERT INTO rocketjob_dirmon_takes (archive_path, entry_id, job_id, source_path, taken_by,
                                    taken_at, uploaded)
VALUES (:archive_path, :entry_id, :job_id, :source_path, :taken_by, :now, :uploaded);

-- name: count_dirmon_take
UPDATE rocketjob_dirmon_entries SET files_started = files_started + 1, last_job_id = :job_id
WHERE id = :id;

-- name: dirmon_takes_of_paths
SELECT archive_path FROM rocketjob_dirmon_takes
WHERE archive_path IN (SELECT value FROM json_each(:paths));

-- name: dirmon_uploaded
UPDATE rocketjob_dirmon_takes SET uploaded = 1 WHERE archive_path = :archive_path;

-- name: dirmon_unfinished_uploads
-- Batch uploads not finished yet, and whether the scanner doing each is a live worker.
SELECT t.archive_path, t.job_id, t.taken_by, t.taken_at,
       EXISTS (SELECT 1 FROM rocketjob_workers AS w WHERE w.name = t.taken_by) AS by_worker
FROM rocketjob_dirmon_takes AS t
WHERE t.entry_id = :entry_id AND NOT t.uploaded;

-- name: dirmon_retake_upload
-- Claims a dead scanner's unfinished upload for this one (one recoverer wins).
UPDATE rocketjob_dirmon_takes SET taken_by = :taken_by, taken_at = :now
WHERE archive_path = :archive_path AND taken_by = :previous AND NOT uploaded;

-- name: dirmon_set_job_fields
-- In the take's transaction: the job learns the name of its archived file (its own id in it).
UPDATE rocketjob_jobs SET fields = :fields WHERE id = :id;

-- name: wait_facts
SELECT id, state, throttle, priority, run_at, waiting_on FROM rocketjob_jobs WHERE id = :id;

-- name: running_in_throttle
SELECT id FROM rocketjob_jobs
WHERE throttle = :throttle AND state = 'running'
ORDER BY id LIMIT :limit;

-- name: count_ahead
-- Due unthrottled jobs before this one in claim order (priority, run_at NULLS FIRST, id),
-- up to a cap: each branch is a range of the claim index, and the LIMIT stops the read.
SELECT count(*) AS n FROM (
    SELECT * FROM (SELECT 1 FROM rocketjob_jobs INDEXED BY rocketjob_jobs_claim
     WHERE state = 'queued' AND throttle IS NULL AND waiting_on = 0
       AND priority < :priority AND (run_at IS NULL OR run_at <= :now)
     LIMIT :cap)
    UNION ALL
    SELECT * FROM (SELECT 1 FROM rocketjob_jobs INDEXED BY rocketjob_jobs_claim
     WHERE state = 'queued' AND throttle IS NULL AND waiting_on = 0
       AND priority = :priority AND run_at IS NULL
       AND (:run_at IS NOT NULL OR id < :id)
     LIMIT :cap)
    UNION ALL
    SELECT * FROM (SELECT 1 FROM rocketjob_jobs INDEXED BY rocketjob_jobs_claim
     WHERE state = 'queued' AND throttle IS NULL AND waiting_on = 0
       AND priority = :priority AND run_at < :run_at
     LIMIT :cap)
    UNION ALL
    SELECT * FROM (SELECT 1 FROM rocketjob_jobs INDEXED BY rocketjob_jobs_claim
     WHERE state = 'queued' AND throttle IS NULL AND waiting_on = 0
       AND priority = :priority AND run_at = :run_at AND id < :id
     LIMIT :cap)
    LIMIT :cap
) AS ahead;

-- name: count_ahead_throttled
-- As count_ahead, among the due jobs of the same throttle (the throttled claim's index).
SELECT count(*) AS n FROM (
    SELECT * FROM (SELECT 1 FROM rocketjob_jobs INDEXED BY rocketjob_jobs_throttled
     WHERE state = 'queued' AND throttle = :throttle AND waiting_on = 0
       AND priority < :priority AND (run_at IS NULL OR run_at <= :now)
     LIMIT :cap)
    UNION ALL
    SELECT * FROM (SELECT 1 FROM rocketjob_jobs INDEXED BY rocketjob_jobs_throttled
     WHERE state = 'queued' AND throttle = :throttle AND waiting_on = 0
       AND priority = :priority AND run_at IS NULL
       AND (:run_at IS NOT NULL OR id < :id)
     LIMIT :cap)
    UNION ALL
    SELECT * FROM (SELECT 1 FROM rocketjob_jobs INDEXED BY rocketjob_jobs_throttled
     WHERE state = 'queued' AND throttle = :throttle AND waiting_on = 0
       AND priority = :priority AND run_at < :run_at
     LIMIT :cap)
    UNION ALL
    SELECT * FROM (SELECT 1 FROM rocketjob_jobs INDEXED BY rocketjob_jobs_throttled
     WHERE state = 'queued' AND throttle = :throttle AND waiting_on = 0
       AND priority = :priority AND run_at = :run_at AND id < :id
     LIMIT :cap)
    LIMIT :cap
) AS ahead;

-- name: live_workers
SELECT name, state, desired_state, include_classes, exclude_classes
FROM rocketjob_workers WHERE heartbeat_at > :cutoff ORDER BY name;
