-- Live worker processes, each refreshing its row every few seconds.
CREATE TABLE worker (
    id           text PRIMARY KEY,
    hostname     text NOT NULL,
    started_at   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL,
    slots        integer NOT NULL,
    busy         integer NOT NULL,
    capabilities jsonb NOT NULL,
    current_jobs jsonb NOT NULL
);
