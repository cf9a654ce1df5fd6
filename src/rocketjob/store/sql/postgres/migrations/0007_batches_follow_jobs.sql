-- A deleted batch job takes its batch row (and through it, its slices) with it, by the
-- statement-level trigger that already counts the deleted jobs: one index probe per
-- deleted job, in one scan, where a foreign key's cascade ran a lookup of its own for
-- every deleted row. Jobs are deleted by the thousand a second as they complete, and
-- nearly none of them are batch jobs.
-- A batch row is written only while its job row is locked (insert_batch), so no batch
-- row can outlive its job.

ALTER TABLE rocketjob_batches DROP CONSTRAINT rocketjob_batches_job_id_fkey;

CREATE OR REPLACE FUNCTION rocketjob_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rocketjob_job_counts (bucket, n)
    SELECT rocketjob_bucket(state, run_at), -count(*) FROM old_rows GROUP BY 1;
    DELETE FROM rocketjob_batches WHERE job_id = ANY (ARRAY(SELECT id FROM old_rows));
    RETURN NULL;
END $$;
