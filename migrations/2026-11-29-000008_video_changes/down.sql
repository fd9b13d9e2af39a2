DROP INDEX videos_app_changed;
