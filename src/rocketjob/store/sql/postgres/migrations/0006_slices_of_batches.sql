-- Slices belong to their batch row, not to the job row directly. A foreign key's cascade
-- runs once per deleted row of the table it references; with slices pointing at the jobs,
-- every completed job that keeps nothing paid for two cascade lookups, one into a table
-- that holds millions of slices. Now a job's deletion cascades to its batch row, if it
-- has one, and only a deleted batch row looks for slices.
-- The batch row is written when the upload starts, before any slice.

ALTER TABLE rocketjob_slices DROP CONSTRAINT rocketjob_slices_job_id_fkey;
ALTER TABLE rocketjob_slices ADD CONSTRAINT rocketjob_slices_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES rocketjob_batches (job_id) ON DELETE CASCADE;
