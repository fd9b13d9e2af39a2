DROP TABLE upload_locks;
DROP TABLE upload_parts;
DROP TABLE upload_sessions;
