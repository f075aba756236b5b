-- Models trained by ML jobs. The row is written in the transaction that ends the training job,
-- so a listed model always has a succeeded job behind it; the weights are in the result store
-- (models/{id}/model.json). Ids are `model_` + UUIDv7 hex, so they sort by creation time.
CREATE TABLE model (
    id         text PRIMARY KEY,
    tenant     text NOT NULL,
    job_id     text NOT NULL,
    info       text NOT NULL,               -- the ModelInfo as GET /v1/models/{id} shows it
    created_at integer NOT NULL             -- Unix milliseconds
);
CREATE INDEX model_by_tenant ON model (tenant, id DESC);
