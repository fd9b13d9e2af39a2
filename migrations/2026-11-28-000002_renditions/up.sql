-- Where a transcoded source's HLS master playlist, sprite sheet and WebVTT thumbnails are.
ALTER TABLE videos
    ADD COLUMN playlist_uri TEXT,
    ADD COLUMN sprite_uri TEXT,
    ADD COLUMN thumbnails_uri TEXT;
