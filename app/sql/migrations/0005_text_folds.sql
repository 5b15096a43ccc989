-- Case-insensitive text matching without the database's locale: each searchable text column
-- gets a copy folded by Python (app/text.py), written with the column by update_profile.
-- Existing rows are backfilled by app/migration_steps.py in the same transaction; so are tag
-- names, which were lower-cased by SQL (ASCII only under the C locale).
ALTER TABLE profiles
    ADD COLUMN name_fold         text,
    ADD COLUMN company_fold      text,
    ADD COLUMN city_fold         text,
    ADD COLUMN country_code_fold text,
    ADD COLUMN region_code_fold  text;
