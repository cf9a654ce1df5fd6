-- Dirmon. An entry watches a glob pattern and starts a job of its class per file.
CREATE TABLE rocketjob_dirmon_entries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    pattern text NOT NULL,
    job_class text NOT NULL,
    properties jsonb NOT NULL DEFAULT '{}',
    archive_directory text NOT NULL,
    -- pending, enabled, disabled or failed
    state text NOT NULL DEFAULT 'pending',
    -- why the last scan of a failed entry failed: "ClassName: message"
    last_error text,
    last_scan_at timestamptz,
    files_started bigint NOT NULL DEFAULT 0,
    -- the job of the latest file taken: the page links to it
    last_job_id bigint,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- What the previous scan saw of each file not yet taken: a file is taken once a later
-- scan sees the same size and mtime (whichever worker made either scan).
CREATE TABLE rocketjob_dirmon_files (
    entry_id bigint NOT NULL REFERENCES rocketjob_dirmon_entries (id) ON DELETE CASCADE,
    path text NOT NULL,
    size bigint NOT NULL,
    mtime_ns bigint NOT NULL,
    scan_id text NOT NULL,
    seen_at timestamptz NOT NULL,
    PRIMARY KEY (entry_id, path)
);

-- Every file taken: committed with its job, so an archived file without a row here is one
-- whose take never committed (the scanner died between the move and the commit).
-- uploaded is false while a batch job's records are still being read from it.
CREATE TABLE rocketjob_dirmon_takes (
    archive_path text PRIMARY KEY,
    entry_id bigint NOT NULL,
    job_id bigint NOT NULL,
    source_path text NOT NULL,
    taken_by text NOT NULL,
    taken_at timestamptz NOT NULL,
    uploaded boolean NOT NULL
);
CREATE INDEX rocketjob_dirmon_takes_unfinished ON rocketjob_dirmon_takes (entry_id)
    WHERE NOT uploaded;
