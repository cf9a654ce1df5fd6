-- Batch jobs: what was uploaded and how far processing got, and the records in slices.

CREATE TABLE rocketjob_batches (
    job_id integer PRIMARY KEY REFERENCES rocketjob_jobs (id) ON DELETE CASCADE,
    slice_size integer NOT NULL,
    -- CSV input: the header row; CSV output: the header written (fixed once, then shared)
    input_header text,
    output_header text,
    -- NULL until the upload finished: the job cannot complete before it is known
    record_count integer,
    uploaded_records integer NOT NULL DEFAULT 0,
    -- records in completed slices (percent_complete, records/s)
    records_done integer NOT NULL DEFAULT 0,
    -- failed slices now: only while there are any must a completion look for what is left
    failed_slices integer NOT NULL DEFAULT 0,
    upload_started_at text NOT NULL,
    uploaded_at text,
    -- the current run (processing, resumed or retried): when its first slice started, and
    -- records_done then; records/s and the ETA are measured from there
    run_started_at text,
    run_records integer NOT NULL DEFAULT 0
);

CREATE TABLE rocketjob_slices (
    id integer PRIMARY KEY,
    job_id integer NOT NULL REFERENCES rocketjob_jobs (id) ON DELETE CASCADE,
    position integer NOT NULL,
    -- number within the uploaded file (1-based) of the slice's first record
    first_record integer NOT NULL,
    record_count integer NOT NULL,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'completed', 'failed')),
    worker_name text,
    -- fencing token: bumped by every claim; only the latest holder may complete or fail it
    lease integer NOT NULL DEFAULT 0,
    started_at text,
    completed_at text,
    -- records of this slice already processed: a retried slice resumes there
    processed integer NOT NULL DEFAULT 0,
    -- zlib-compressed JSON array of the input records (dropped once completed)
    records blob,
    -- zlib-compressed output text in the job's output format, in record order
    output blob,
    output_count integer NOT NULL DEFAULT 0,
    -- number within the file of the record that raised, and what it raised
    failed_record integer,
    exception text,
    UNIQUE (job_id, position)
);

-- Claims pick the most urgent processing job (a handful of rows), then its queued slices
-- in input order; slices of paused or failed jobs are never walked over.
CREATE INDEX rocketjob_jobs_processing ON rocketjob_jobs (priority, id)
    WHERE state = 'running' AND sub_state = 'processing';
CREATE INDEX rocketjob_slices_queued ON rocketjob_slices (job_id, position)
    WHERE state = 'queued';
-- Slice counts per state of one job, and "is anything left?" after each slice.
CREATE INDEX rocketjob_slices_state ON rocketjob_slices (job_id, state);
-- The reaper looks up the running slices of dead workers.
CREATE INDEX rocketjob_slices_running ON rocketjob_slices (worker_name)
    WHERE state = 'running';
