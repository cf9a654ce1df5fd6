-- Worker processes: what each one reports of itself, and what operators asked of it.

CREATE TABLE rocketjob_workers (
    name text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    state text NOT NULL CHECK (state IN ('starting', 'running', 'paused', 'stopping')),
    -- what an operator asked for; the worker moves its state there (NULL: nothing asked)
    desired_state text CHECK (desired_state IN ('running', 'paused', 'stopping')),
    threads integer NOT NULL,
    started_at timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);
