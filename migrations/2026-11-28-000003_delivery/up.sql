-- The master playlist that every origin holds (what play URLs point at). It differs
-- from playlist_uri while a new generation is being published.
ALTER TABLE videos ADD COLUMN published_uri TEXT;

-- Install-wide values every node must agree on (the media token key).
CREATE TABLE settings (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
