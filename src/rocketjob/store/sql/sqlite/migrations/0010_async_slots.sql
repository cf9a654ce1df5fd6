-- Async jobs: how many a worker runs at once on its event loop (0: it runs none), shown
-- next to its threads.
ALTER TABLE rocketjob_workers ADD COLUMN async_slots integer NOT NULL DEFAULT 0;
