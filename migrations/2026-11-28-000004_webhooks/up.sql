-- Endpoints an app registered for status events.
CREATE TABLE webhooks (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id      BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    -- event names, e.g. {video.playable}; empty means every event.
    events      TEXT[] NOT NULL DEFAULT '{}',
    -- signs deliveries (Reel-Signature).
    secret      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_app ON webhooks (app_id);

-- One event for one endpoint; sent by a WEBHOOK job until a 2xx or 24 h have passed.
CREATE TABLE webhook_deliveries (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id     BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    app_id         BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    event_id       TEXT NOT NULL,
    event          TEXT NOT NULL,
    video_id       BIGINT NOT NULL,
    payload        JSONB NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at   TIMESTAMPTZ,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id DESC);

-- Every POST made for a delivery, for the app to inspect.
CREATE TABLE webhook_attempts (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id    BIGINT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    status_code    INTEGER,
    error          TEXT,
    duration_ms    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
