-- A rotated app secret stays valid until previous_secret_until (the grace an operator
-- gave), so clients can move to the new one without a gap. Both columns hold a secret as
-- stored: sealed with the operator's master key when one is set.
ALTER TABLE apps
    ADD COLUMN previous_secret TEXT,
    ADD COLUMN previous_secret_until TIMESTAMPTZ,
    ADD CONSTRAINT apps_previous_secret_pair
        CHECK ((previous_secret IS NULL) = (previous_secret_until IS NULL));
