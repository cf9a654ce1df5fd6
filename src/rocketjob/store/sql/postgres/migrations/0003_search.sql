-- Mission Control's search: a case-insensitive substring of the description, found through
-- a trigram index (pg_trgm, a trusted extension shipped with PostgreSQL) instead of a scan
-- of every job. Jobs without a description stay out of the index.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX rocketjob_jobs_description ON rocketjob_jobs
    USING gin (description gin_trgm_ops) WHERE description IS NOT NULL;
