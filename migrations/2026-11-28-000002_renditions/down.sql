ALTER TABLE videos DROP COLUMN playlist_uri, DROP COLUMN sprite_uri, DROP COLUMN thumbnails_uri;
