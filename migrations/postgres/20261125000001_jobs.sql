-- The job table: the API resource and the work queue in one.
CREATE TABLE job (
    id               uuid PRIMARY KEY,           -- UUIDv7: ordered by creation time
    tenant           text NOT NULL,
    name             text,
    spec             json NOT NULL,           -- json, not jsonb: key order is meaningful (agg, assign)
    state            text NOT NULL
                     CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    priority         integer NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL,
    timeout_s        bigint,
    idempotency_key  text,
    request_hash     text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    run_after        timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    lease_id         uuid,
    lease_expires_at timestamptz,
    worker_id        text,
    error            jsonb,
    result           jsonb,
    CHECK ((state = 'running') = (lease_id IS NOT NULL))
);

CREATE UNIQUE INDEX job_idempotency ON job (tenant, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX job_queue ON job (priority DESC, id) WHERE state = 'queued';
CREATE INDEX job_leases ON job (lease_expires_at) WHERE state = 'running';
CREATE INDEX job_by_tenant ON job (tenant, id DESC);
