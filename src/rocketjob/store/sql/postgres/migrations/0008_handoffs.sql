-- Direct hand-off: an idle worker offers slots, and create() claims the new job for it in
-- the transaction that inserts it. The job then costs the worker no claim of its own (a
-- durable commit it would wait for), only a read of the row the notice names.
--   handoff_slots   how many more jobs creators may hand this worker (it keeps count)
--   handoff_until   the offer lapses unless heartbeats renew it: a frozen or cut-off
--                   worker stops receiving jobs within a few heartbeat intervals
--   include_classes, exclude_classes   the worker's class filters, as claim_jobs applies them
ALTER TABLE rocketjob_workers
    ADD COLUMN handoff_slots integer NOT NULL DEFAULT 0,
    ADD COLUMN handoff_until timestamptz,
    ADD COLUMN include_classes text,
    ADD COLUMN exclude_classes text;
