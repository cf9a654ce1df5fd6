-- A worker's --include / --exclude patterns, as claim_jobs applies them: "why is it
-- waiting?" tells when no live worker takes a job's class.
ALTER TABLE rocketjob_workers ADD COLUMN include_classes text;
ALTER TABLE rocketjob_workers ADD COLUMN exclude_classes text;
