-- GPU jobs: only a worker with a device claims a job that needs one, and such a job waits in
-- the queue at most until wait_until (its timeout_s after submission).
ALTER TABLE job ADD COLUMN needs_gpu boolean NOT NULL DEFAULT 0;
ALTER TABLE job ADD COLUMN wait_until integer;
