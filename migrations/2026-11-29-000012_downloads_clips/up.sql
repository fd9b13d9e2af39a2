-- Downloadable files (issue 17): which a video should have, and those made. The files are
-- remuxed from a generation's renditions and stored under it (`{generation}downloads/`),
-- so they go with the generation; a retranscode makes them again from the new one.
CREATE TABLE download_requests (
    video_id     BIGINT PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
    definitions  TEXT[] NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE downloads (
    video_id     BIGINT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    -- a rung name, or AUDIO
    definition   TEXT NOT NULL,
    generation   TEXT NOT NULL,
    storage_key  TEXT NOT NULL,
    file_size    BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, definition)
);

-- What every new video of an app asks for (empty: nothing).
CREATE TABLE app_download_defaults (
    app_id       BIGINT PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
    definitions  TEXT[] NOT NULL
);

-- Clips: a video cut from another. An instant clip owns no media: its playlists sit in the
-- parent's generation (`files`) and point at the parent's segments, which stay stored while
-- a clip names the generation, even after the parent is deleted or retranscoded.
CREATE TABLE clips (
    video_id     BIGINT PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
    parent_id    BIGINT REFERENCES videos (id) ON DELETE SET NULL,
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT NOT NULL,
    precise      BOOLEAN NOT NULL,
    generation   TEXT,
    files        TEXT[] NOT NULL DEFAULT '{}'
);
CREATE INDEX clips_parent ON clips (parent_id);
CREATE INDEX clips_generation ON clips (generation) WHERE generation IS NOT NULL;
