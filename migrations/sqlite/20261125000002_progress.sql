-- Progress of a running job, written with each heartbeat.
ALTER TABLE job ADD COLUMN progress text;
