DROP TABLE jobs;
DROP TABLE video_snapshots;
DROP TABLE videos;
DROP TABLE apps;
