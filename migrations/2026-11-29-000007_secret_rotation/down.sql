ALTER TABLE apps
    DROP CONSTRAINT apps_previous_secret_pair,
    DROP COLUMN previous_secret_until,
    DROP COLUMN previous_secret;
