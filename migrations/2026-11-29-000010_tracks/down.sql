DROP TABLE generations;
DROP TABLE text_tracks;
ALTER TABLE apps DROP COLUMN encrypt_uploads;
ALTER TABLE videos DROP COLUMN encrypt;
ALTER TABLE videos DROP COLUMN kind;
