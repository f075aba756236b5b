-- Every attempt at a job: who ran it, when, and how it ended.
CREATE TABLE job_attempt (
    job_id     uuid NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    attempt    integer NOT NULL,
    worker_id  text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at   timestamptz,
    -- succeeded | failed | retry | cancelled | lease_expired
    outcome    text,
    error      jsonb,
    PRIMARY KEY (job_id, attempt)
);
