-- Every attempt at a job: who ran it, when, and how it ended. Times are Unix milliseconds.
CREATE TABLE job_attempt (
    job_id     text NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    attempt    integer NOT NULL,
    worker_id  text NOT NULL,
    started_at integer NOT NULL,
    ended_at   integer,
    -- succeeded | failed | retry | cancelled | lease_expired
    outcome    text,
    error      text,
    PRIMARY KEY (job_id, attempt)
);
