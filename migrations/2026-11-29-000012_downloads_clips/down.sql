DROP TABLE clips;
DROP TABLE app_download_defaults;
DROP TABLE downloads;
DROP TABLE download_requests;
