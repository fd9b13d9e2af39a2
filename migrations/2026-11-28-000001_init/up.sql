-- Tenants. `app_secret` signs API requests (HMAC) and browser tokens (JWT).
CREATE TABLE apps (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    app_key     TEXT NOT NULL UNIQUE,
    app_secret  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A source video (parent_id IS NULL) or one rendition of it (parent_id = source).
CREATE TABLE videos (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id         BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    parent_id      BIGINT REFERENCES videos (id) ON DELETE CASCADE,
    -- id of the video whose stored bytes this one shares (instant upload); no
    -- foreign key: the bytes outlive that row while other videos use them.
    unique_id      BIGINT,
    source_name    TEXT NOT NULL DEFAULT '',
    create_time    TIMESTAMPTZ NOT NULL DEFAULT now(),
    update_time    TIMESTAMPTZ NOT NULL DEFAULT now(),
    file_size      BIGINT NOT NULL DEFAULT 0 CHECK (file_size >= 0),
    video_width    INTEGER,
    video_height   INTEGER,
    duration       BIGINT,                      -- milliseconds
    hash           TEXT CHECK (hash ~ '^[0-9a-f]{32}$'),  -- md5, lowercase hex
    definition     TEXT CHECK (definition IN ('LD', 'SD', 'HD', 'FHD', 'QHD', 'UHD')),
    storage_uri    TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL CHECK (status IN (
                       'UPLOADING', 'UPLOADED', 'UPLOAD_FAILED',
                       'TRANSCODE_QUEUED', 'TRANSCODING', 'TRANSCODED',
                       'TRANSCODE_FAILED', 'PLAYABLE')),
    image_index    INTEGER NOT NULL DEFAULT 0 CHECK (image_index >= 0),
    image_count    INTEGER NOT NULL DEFAULT 10 CHECK (image_count BETWEEN 0 AND 100),
    task_priority  INTEGER NOT NULL DEFAULT 0,
    progress       SMALLINT NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    error          TEXT,
    passthrough    TEXT,
    media_info     JSONB
);

-- Listing an app's videos newest first, optionally by status (keyset pagination on id).
CREATE INDEX videos_app_sources ON videos (app_id, id DESC) WHERE parent_id IS NULL;
CREATE INDEX videos_app_status ON videos (app_id, status, id DESC) WHERE parent_id IS NULL;
CREATE INDEX videos_parent ON videos (parent_id) WHERE parent_id IS NOT NULL;
-- Instant upload looks a stored file up by md5 and size within one app.
CREATE INDEX videos_app_hash ON videos (app_id, hash, file_size) WHERE hash IS NOT NULL;
CREATE INDEX videos_unique ON videos (unique_id) WHERE unique_id IS NOT NULL;

CREATE TABLE video_snapshots (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    video_id     BIGINT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    image_index  INTEGER NOT NULL CHECK (image_index >= 0),
    storage_uri  TEXT NOT NULL,
    width        INTEGER,
    height       INTEGER,
    file_size    BIGINT NOT NULL DEFAULT 0,
    create_time  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (video_id, image_index)
);

-- The durable work queue (claimed with FOR UPDATE SKIP LOCKED).
CREATE TABLE jobs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT NOT NULL,
    app_id        BIGINT REFERENCES apps (id) ON DELETE CASCADE,
    -- deleting a video deletes its jobs; a worker that loses its row stops.
    video_id      BIGINT REFERENCES videos (id) ON DELETE CASCADE,
    payload       JSONB NOT NULL DEFAULT '{}',
    priority      INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL DEFAULT 3,
    run_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until   TIMESTAMPTZ,
    worker        TEXT,
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX jobs_ready ON jobs (priority DESC, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_video ON jobs (video_id) WHERE video_id IS NOT NULL;
