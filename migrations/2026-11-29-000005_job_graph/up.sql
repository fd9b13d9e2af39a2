-- Jobs that wait for other jobs (fan-out and fan-in): a job with unfinished
-- prerequisites is 'waiting' and counts them in waiting_for; each prerequisite that ends
-- (done or failed) decrements the count, and the last one queues it.
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
    CHECK (state IN ('waiting', 'queued', 'running', 'done', 'failed'));
ALTER TABLE jobs ADD COLUMN waiting_for INTEGER NOT NULL DEFAULT 0 CHECK (waiting_for >= 0);
-- Attempts are a policy of each job kind (in code), not of the row.
ALTER TABLE jobs DROP COLUMN max_attempts;

CREATE TABLE job_dependencies (
    job_id      BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    depends_on  BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    PRIMARY KEY (job_id, depends_on)
);
CREATE INDEX job_dependencies_on ON job_dependencies (depends_on);
