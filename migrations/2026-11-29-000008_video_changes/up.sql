-- A live subscriber that fell behind is sent the current state of its app's videos
-- changed since its last event: this finds them without sorting the app's videos.
CREATE INDEX videos_app_changed ON videos (app_id, update_time);
