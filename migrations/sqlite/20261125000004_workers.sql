-- Live worker processes, each refreshing its row every few seconds. Times are Unix milliseconds.
CREATE TABLE worker (
    id           text PRIMARY KEY,
    hostname     text NOT NULL,
    started_at   integer NOT NULL,
    last_seen    integer NOT NULL,
    slots        integer NOT NULL,
    busy         integer NOT NULL,
    capabilities text NOT NULL,
    current_jobs text NOT NULL
);
