ALTER TABLE videos DROP COLUMN output_prefix;
