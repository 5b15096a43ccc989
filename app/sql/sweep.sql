-- phone_blocks --
-- The sweep's blocks: each phone several live profiles hold, with its holders (tombstones
-- hold no identifiers). An index-only pass over the account's phones.
SELECT value_norm, array_agg(DISTINCT profile_id ORDER BY profile_id)
FROM profile_identifiers
WHERE account_id = %(account_id)s AND kind = 'phone' AND value_norm IS NOT NULL
GROUP BY value_norm
HAVING count(DISTINCT profile_id) > 1;

-- phone_blocks_of --
-- The same, only for the phones these profiles hold (a later pass: what merges changed).
SELECT value_norm, array_agg(DISTINCT profile_id ORDER BY profile_id)
FROM profile_identifiers
WHERE account_id = %(account_id)s AND kind = 'phone' AND value_norm = ANY(ARRAY(
    SELECT value_norm FROM profile_identifiers
    WHERE account_id = %(account_id)s AND profile_id = ANY(%(ids)s::bigint[])
      AND kind = 'phone' AND value_norm IS NOT NULL))
GROUP BY value_norm
HAVING count(DISTINCT profile_id) > 1;

-- names_of --
-- What the phone + name rule compares: each live profile's name and name history.
SELECT id, created_at, name, names FROM profiles
WHERE account_id = %(account_id)s AND id = ANY(%(ids)s::bigint[]) AND merged_into IS NULL;

-- live_count --
SELECT count(*) FROM profiles WHERE account_id = %(account_id)s AND merged_into IS NULL;
