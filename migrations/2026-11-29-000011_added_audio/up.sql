-- Audio tracks added to a video from audio files (another language, a commentary): the
-- file stays stored so that every new generation of the video gets the track encoded too.
CREATE TABLE added_audio (
    id          BIGSERIAL PRIMARY KEY,
    video_id    BIGINT NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    language    TEXT NOT NULL,
    name        TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX added_audio_video ON added_audio (video_id);

-- Which generations hold an added track's rendition (`audio_t{id}/`).
CREATE TABLE added_audio_outputs (
    track_id    BIGINT NOT NULL REFERENCES added_audio (id) ON DELETE CASCADE,
    generation  TEXT NOT NULL,
    PRIMARY KEY (track_id, generation)
);
