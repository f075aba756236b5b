-- One row that readiness probes write, so that /readyz fails when the store cannot write.
CREATE TABLE store_probe (
    id INTEGER PRIMARY KEY,
    checked_at INTEGER NOT NULL
);
