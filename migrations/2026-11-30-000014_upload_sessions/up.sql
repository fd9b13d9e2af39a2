-- Upload sessions live in Postgres (issue 18): a Redis that loses its data, or is down,
-- no longer loses an upload. `session` is the whole record (upload::UploadSession); the
-- columns beside it are what the quota, the sweep and the pruning select on.
CREATE TABLE upload_sessions (
    id          TEXT PRIMARY KEY,
    app_id      BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    -- Still taking bytes: counted by the app's upload limits, swept when it expires.
    receiving   BOOLEAN NOT NULL,
    -- Declared size (0 while a tus upload defers its length).
    size        BIGINT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    -- The row (a finished upload's tombstone, an expired one's 410) is pruned after this.
    keep_until  TIMESTAMPTZ NOT NULL,
    session     JSONB NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX upload_sessions_open ON upload_sessions (app_id) WHERE receiving;
CREATE INDEX upload_sessions_expiry ON upload_sessions (expires_at) WHERE receiving;
CREATE INDEX upload_sessions_keep ON upload_sessions (keep_until);

-- Received parts of part transfers (seed API): their md5 as recorded.
CREATE TABLE upload_parts (
    upload_id TEXT NOT NULL,
    part      INT NOT NULL,
    md5       TEXT NOT NULL,
    PRIMARY KEY (upload_id, part)
);

-- Writers' leases on an upload (stream writes, a part, the completion): taken and renewed
-- against the database clock, so a lapsed holder can be told apart from the live one.
CREATE TABLE upload_locks (
    name       TEXT PRIMARY KEY,
    token      TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
