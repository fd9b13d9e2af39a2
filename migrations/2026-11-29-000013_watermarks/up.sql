-- Watermark profiles of an app: an overlay image (in the app's storage area) and where
-- and how it is burned into every rung. At most one is the app's default.
CREATE TABLE watermarks (
    id            BIGSERIAL PRIMARY KEY,
    app_id        BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    image_key     TEXT NOT NULL,
    image_format  TEXT NOT NULL,
    image_width   INT NOT NULL,
    image_height  INT NOT NULL,
    image_bytes   BIGINT NOT NULL,
    position      TEXT NOT NULL,
    margin        DOUBLE PRECISION NOT NULL,
    scale         DOUBLE PRECISION NOT NULL,
    opacity       DOUBLE PRECISION NOT NULL,
    is_default    BOOLEAN NOT NULL DEFAULT false,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX watermarks_app ON watermarks (app_id, id);
CREATE UNIQUE INDEX watermarks_one_default ON watermarks (app_id) WHERE is_default;

-- A video's own choice when it is not the app's default (a row per such video, never a
-- column on videos): a profile, or none at all (watermark_id NULL). Deleting the profile
-- deletes the choice, and the video falls back to the app's default.
CREATE TABLE video_watermarks (
    video_id      BIGINT PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
    watermark_id  BIGINT REFERENCES watermarks (id) ON DELETE CASCADE
);
CREATE INDEX video_watermarks_watermark ON video_watermarks (watermark_id);
