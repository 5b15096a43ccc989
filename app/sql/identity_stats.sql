-- profiles --
-- Live profiles and tombstones (merged away).
SELECT count(*) AS total,
       (SELECT count(*) FROM profiles m
        WHERE m.account_id = %(account_id)s AND m.merged_into IS NOT NULL) AS merged
FROM profiles WHERE account_id = %(account_id)s;

-- merges_by_rule --
-- Merges (and unmerges) by rule: all time, and per day over the last days.
SELECT rule, NULL::date AS day, count(*) AS merges, count(undone_at) AS undone
FROM merges WHERE account_id = %(account_id)s
GROUP BY rule
UNION ALL
SELECT rule, (created_at AT TIME ZONE 'UTC')::date, count(*), count(undone_at)
FROM merges
WHERE account_id = %(account_id)s AND created_at >= %(since)s
GROUP BY 1, 2
ORDER BY 2 NULLS FIRST, 1;

-- shared_phones --
-- Phones held by more than one live profile (the rules left them apart: names too far apart,
-- or the phone is shared too widely), and those held by more than the shared limit.
SELECT count(*) AS shared, count(*) FILTER (WHERE holders > %(limit)s) AS over_limit,
       coalesce(sum(holders), 0) AS profiles
FROM (SELECT count(*) AS holders FROM profile_identifiers
      WHERE account_id = %(account_id)s AND kind = 'phone' AND value_norm IS NOT NULL
      GROUP BY value_norm HAVING count(*) > 1) g;

-- placeholders --
-- Values stored as given but never matched (placeholder emails, phones, external ids).
SELECT kind, count(*) FROM profile_identifiers
WHERE account_id = %(account_id)s AND value_norm IS NULL
GROUP BY kind ORDER BY kind;

-- distinct_pairs --
SELECT count(*) FROM distinct_profiles WHERE account_id = %(account_id)s;
