ALTER TABLE videos DROP COLUMN ladder_chunks_done;
ALTER TABLE videos DROP COLUMN ladder_chunks;
ALTER TABLE videos DROP COLUMN ladder_complete;
