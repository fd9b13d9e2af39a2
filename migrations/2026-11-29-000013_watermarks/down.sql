DROP TABLE video_watermarks;
DROP TABLE watermarks;
