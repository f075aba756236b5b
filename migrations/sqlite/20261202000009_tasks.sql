-- Task spans: one row per operator × partition (or ML fit) of an attempt, written while it
-- runs and kept with the job. Times are microseconds since the Unix epoch: spans are points on
-- a time axis, often shorter than a millisecond.
CREATE TABLE job_task (
    job_id        text NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    attempt       integer NOT NULL,
    seq           integer NOT NULL,
    worker_id     text NOT NULL,
    node          integer NOT NULL,
    operator      text NOT NULL,
    part          integer NOT NULL,
    detail        text,
    started_us    integer NOT NULL,
    ended_us      integer,
    rows_out      integer NOT NULL,
    bytes_out     integer,
    compute_ns    integer NOT NULL,
    spill_count   integer NOT NULL,
    spilled_bytes integer NOT NULL,
    memory_peak   integer,
    PRIMARY KEY (job_id, attempt, seq)
);
-- A worker's load at its last report (memory pool, spill, CPU).
ALTER TABLE worker ADD COLUMN load text NOT NULL DEFAULT '{}';
