DROP TABLE settings;
ALTER TABLE videos DROP COLUMN published_uri;
