-- Finished jobs are pruned by age (issue 18): the pruner finds them by this index.
CREATE INDEX jobs_finished ON jobs (updated_at) WHERE state IN ('done', 'failed');
