-- The chunked ladder: a video plays on its first rung while the others are encoded in
-- chunks; `ladder_complete` is false until they have joined, and progress counts chunks.
ALTER TABLE videos ADD COLUMN ladder_complete BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE videos ADD COLUMN ladder_chunks INTEGER NOT NULL DEFAULT 0 CHECK (ladder_chunks >= 0);
ALTER TABLE videos ADD COLUMN ladder_chunks_done INTEGER NOT NULL DEFAULT 0 CHECK (ladder_chunks_done >= 0);
