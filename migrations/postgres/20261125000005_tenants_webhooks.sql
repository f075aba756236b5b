-- Tenants and their webhook secrets; API keys (only a hash is kept) name a tenant.
CREATE TABLE tenant (
    name           text PRIMARY KEY,
    webhook_secret text NOT NULL,           -- whsec_<base64>
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_key (
    id         text PRIMARY KEY,            -- shown in `rusk keys list`, used to revoke
    tenant     text NOT NULL REFERENCES tenant (name),
    hash       text NOT NULL UNIQUE,        -- hex SHA-256 of the whole key
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Secrets every process must share (the key that signs result links).
CREATE TABLE secret (
    name  text PRIMARY KEY,
    value text NOT NULL
);

-- The webhook outbox: a row per terminal job with a webhook, written in the transaction that
-- ends the job, and taken by whichever worker is free.
CREATE TABLE webhook_delivery (
    id         text PRIMARY KEY,            -- the Standard Webhooks message id (msg_…)
    job_id     uuid NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    tenant     text NOT NULL,
    url        text NOT NULL,
    event      text NOT NULL,               -- job.succeeded | job.failed | job.cancelled
    state      text NOT NULL DEFAULT 'pending'
               CHECK (state IN ('pending', 'delivered', 'failed', 'gone')),
    attempts   integer NOT NULL DEFAULT 0,
    next_at    timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_due ON webhook_delivery (next_at) WHERE state = 'pending';
CREATE INDEX webhook_by_job ON webhook_delivery (job_id);

CREATE TABLE webhook_attempt (
    delivery_id text NOT NULL REFERENCES webhook_delivery (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL,
    duration_ms bigint NOT NULL,
    status      integer,                    -- the receiver's HTTP status; null when none came
    error       text,
    PRIMARY KEY (delivery_id, attempt)
);
