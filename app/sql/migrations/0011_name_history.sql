-- The names a profile has been written with, so that the phone + name rule compares a write
-- with all of them ("J. Gibson" written later must not hide "Jamie Gibson"): normalized by
-- Python (app/identity/names.py), distinct, newest first, at most HISTORY_LIMIT (10). The
-- write path puts each name written in front (writes.sql); a merge unions the histories.
-- Existing rows start from their current name, normalized by app/migration_steps.py in the
-- same transaction.
ALTER TABLE profiles ADD COLUMN names text[] NOT NULL DEFAULT '{}';
