-- Task spans: one row per operator × partition (or ML fit) of an attempt, written while it
-- runs and kept with the job. Times are microseconds since the Unix epoch: spans are points on
-- a time axis, often shorter than a millisecond.
CREATE TABLE job_task (
    job_id        uuid NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    attempt       integer NOT NULL,
    seq           integer NOT NULL,
    worker_id     text NOT NULL,
    node          integer NOT NULL,
    operator      text NOT NULL,
    part          integer NOT NULL,
    detail        text,
    started_us    bigint NOT NULL,
    ended_us      bigint,
    rows_out      bigint NOT NULL,
    bytes_out     bigint,
    compute_ns    bigint NOT NULL,
    spill_count   bigint NOT NULL,
    spilled_bytes bigint NOT NULL,
    memory_peak   bigint,
    PRIMARY KEY (job_id, attempt, seq)
);
-- A worker's load at its last report (memory pool, spill, CPU).
ALTER TABLE worker ADD COLUMN load jsonb NOT NULL DEFAULT '{}';
