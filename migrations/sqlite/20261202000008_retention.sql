-- Result retention: how many bytes a succeeded job keeps in the result store (0 once they are
-- deleted, and for jobs that wrote to their own output.path), until when, and when the
-- janitor deleted them (downloads then answer 410). Times are Unix milliseconds.
ALTER TABLE job ADD COLUMN result_bytes integer NOT NULL DEFAULT 0;
ALTER TABLE job ADD COLUMN result_expires_at integer;
ALTER TABLE job ADD COLUMN result_expired_at integer;
CREATE INDEX job_result_expiry ON job (result_expires_at)
    WHERE result_expires_at IS NOT NULL AND result_expired_at IS NULL;
CREATE INDEX job_ended ON job (finished_at) WHERE finished_at IS NOT NULL;
