-- The job table: the API resource and the work queue in one. Times are Unix milliseconds.
CREATE TABLE job (
    id               text PRIMARY KEY,           -- UUIDv7 text: ordered by creation time
    tenant           text NOT NULL,
    name             text,
    spec             text NOT NULL,
    state            text NOT NULL
                     CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    priority         integer NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL,
    timeout_s        integer,
    idempotency_key  text,
    request_hash     text,
    created_at       integer NOT NULL,
    run_after        integer NOT NULL,
    started_at       integer,
    finished_at      integer,
    lease_id         text,
    lease_expires_at integer,
    worker_id        text,
    error            text,
    result           text,
    CHECK ((state = 'running') = (lease_id IS NOT NULL))
);

CREATE UNIQUE INDEX job_idempotency ON job (tenant, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX job_queue ON job (priority DESC, id) WHERE state = 'queued';
CREATE INDEX job_leases ON job (lease_expires_at) WHERE state = 'running';
CREATE INDEX job_by_tenant ON job (tenant, id DESC);
