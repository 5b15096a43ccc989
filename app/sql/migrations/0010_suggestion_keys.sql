-- Duplicate suggestions (GET /v1/customers/{id}/duplicates) find their candidates through
-- indexes, never by scanning the account: the embedded PostgreSQL has no pg_trgm or
-- fuzzystrmatch, so names get exact blocking keys computed in Python (app/identity/blocking.py)
-- and written with the name by the profile write; existing rows are backfilled by
-- app/migration_steps.py in the same transaction. Emails and phones need no new column: their
-- near misses are enumerated when asked and looked up by profile_identifiers_lookup.
ALTER TABLE profiles
    ADD COLUMN name_key  text,     -- the name's words, nickname-canonical, sorted
    ADD COLUMN name_keys text[];   -- name_key and its loose variants (initials, middle names)

-- The same name (and how common it is), the same name and city, the same name and company:
-- live profiles only, as the lookups ask.
CREATE INDEX profiles_name_key_city ON profiles (account_id, name_key, city_fold)
    WHERE merged_into IS NULL AND name_key IS NOT NULL;
CREATE INDEX profiles_name_key_company ON profiles (account_id, name_key, company_fold)
    WHERE merged_into IS NULL AND name_key IS NOT NULL AND company_fold IS NOT NULL;
-- Overlapping loose keys ("J. Gibson" / "Jamie Gibson"). GIN cannot lead with account_id
-- (btree_gin is not in the embedded build): the lookups filter on it. No fast-update pending
-- list: every search would scan it (megabytes under steady writes), and a write adds only a
-- few keys.
CREATE INDEX profiles_name_keys ON profiles USING gin (name_keys) WITH (fastupdate = off)
    WHERE merged_into IS NULL AND name_keys IS NOT NULL;
