-- Tracks and protection (issue 16): what a source is (VIDEO or AUDIO), whether its
-- segments are encrypted, text tracks, and per generation of outputs the AES-128 key
-- and the MPEG-TS time of the first frame (text tracks are mapped onto it). A source's
-- audio renditions follow from its probe (media_info).
ALTER TABLE videos ADD COLUMN kind TEXT NOT NULL DEFAULT 'VIDEO' CHECK (kind IN ('VIDEO', 'AUDIO'));
ALTER TABLE videos ADD COLUMN encrypt BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE apps ADD COLUMN encrypt_uploads BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE text_tracks (
    id          BIGSERIAL PRIMARY KEY,
    video_id    BIGINT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    language    TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('SUBTITLES', 'CAPTIONS')),
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    content     TEXT NOT NULL,
    cues        INTEGER NOT NULL,
    end_ms      BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- One track per video, language and kind: adding it again replaces it.
    UNIQUE (video_id, language, kind)
);

CREATE TABLE generations (
    video_id    BIGINT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    -- The prefix of one transcode's outputs (a retranscode makes a new one).
    generation  TEXT NOT NULL,
    -- Encrypted outputs: the AES-128 key and IV (hex), sealed under a server key.
    sealed_key  TEXT,
    -- The MPEG-TS time (90 kHz) of the first frame of its segments.
    timeline_pts BIGINT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, generation)
);
