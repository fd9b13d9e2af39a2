-- Where a transcodeUri source's outputs go (its dst), kept for its retranscodes.
ALTER TABLE videos ADD COLUMN output_prefix TEXT;
