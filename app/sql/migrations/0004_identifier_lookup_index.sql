-- Every write looks its identifiers up by (account, kind, normalized value) for all kinds at
-- once; the partial indexes of 0001 (unique for email/external_id, phone-only) cannot serve
-- a join on `kind`, so such lookups scanned the account's identifiers. One index serves all
-- kinds and replaces the phone-only one.
CREATE INDEX profile_identifiers_lookup
    ON profile_identifiers (account_id, kind, value_norm)
    WHERE value_norm IS NOT NULL;
DROP INDEX profile_identifiers_phone;
