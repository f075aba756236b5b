-- Tenants and their webhook secrets; API keys (only a hash is kept) name a tenant.
-- Times are Unix milliseconds.
CREATE TABLE tenant (
    name           text PRIMARY KEY,
    webhook_secret text NOT NULL,
    created_at     integer NOT NULL
);

CREATE TABLE api_key (
    id         text PRIMARY KEY,
    tenant     text NOT NULL REFERENCES tenant (name),
    hash       text NOT NULL UNIQUE,
    created_at integer NOT NULL,
    revoked_at integer
);

CREATE TABLE secret (
    name  text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE webhook_delivery (
    id         text PRIMARY KEY,
    job_id     text NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    tenant     text NOT NULL,
    url        text NOT NULL,
    event      text NOT NULL,
    state      text NOT NULL DEFAULT 'pending'
               CHECK (state IN ('pending', 'delivered', 'failed', 'gone')),
    attempts   integer NOT NULL DEFAULT 0,
    next_at    integer NOT NULL,
    created_at integer NOT NULL
);
CREATE INDEX webhook_due ON webhook_delivery (next_at) WHERE state = 'pending';
CREATE INDEX webhook_by_job ON webhook_delivery (job_id);

CREATE TABLE webhook_attempt (
    delivery_id text NOT NULL REFERENCES webhook_delivery (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    at          integer NOT NULL,
    duration_ms integer NOT NULL,
    status      integer,
    error       text,
    PRIMARY KEY (delivery_id, attempt)
);
