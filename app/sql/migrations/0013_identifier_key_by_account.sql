-- Every tenant table keys its rows by account first, so that the schema stays distributable
-- by account_id (Citus: docs/scaling.md) and every lookup by id is scoped by its account. The
-- identifiers' primary key was (id) alone; it becomes (account_id, id). Statements already
-- find identifier rows by (account_id, id), which this index now serves directly.
ALTER TABLE profile_identifiers
    DROP CONSTRAINT profile_identifiers_pkey,
    ADD CONSTRAINT profile_identifiers_pkey PRIMARY KEY (account_id, id);
