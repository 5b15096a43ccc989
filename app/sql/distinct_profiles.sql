-- remember --
-- Two profiles are two people (an unmerge said so).
INSERT INTO distinct_profiles (account_id, low_id, high_id, request_id)
VALUES (%(account_id)s, least(%(a)s::bigint, %(b)s::bigint), greatest(%(a)s::bigint, %(b)s::bigint),
        %(request_id)s)
ON CONFLICT DO NOTHING;

-- among --
-- The pairs of these live profiles known to be two people: each pair is recorded between
-- profile ids, which may be tombstones of them now.
WITH members AS (
    SELECT id, coalesce(merged_into, id) AS live FROM profiles
    WHERE account_id = %(account_id)s
      AND (id = ANY(%(ids)s::bigint[]) OR merged_into = ANY(%(ids)s::bigint[]))
)
SELECT DISTINCT a.live, b.live
FROM distinct_profiles d
JOIN members a ON a.id = d.low_id
JOIN members b ON b.id = d.high_id
WHERE d.account_id = %(account_id)s AND a.live <> b.live;

-- list_for --
-- The people known to be distinct from this one (the live profile each pair's other end
-- stands for), newest pair first, keyset-paginated on (created_at, other id).
WITH members AS (
    SELECT id FROM profiles
    WHERE account_id = %(account_id)s AND (id = %(person)s OR merged_into = %(person)s)
), pairs AS (
    SELECT d.high_id AS other, d.created_at FROM distinct_profiles d JOIN members m
      ON d.account_id = %(account_id)s AND d.low_id = m.id
    UNION ALL
    SELECT d.low_id, d.created_at FROM distinct_profiles d JOIN members m
      ON d.account_id = %(account_id)s AND d.high_id = m.id
), resolved AS (
    SELECT coalesce(p.merged_into, p.id) AS other, max(pairs.created_at) AS created_at
    FROM pairs JOIN profiles p ON p.account_id = %(account_id)s AND p.id = pairs.other
    GROUP BY 1
)
SELECT other, created_at FROM resolved
WHERE other <> %(person)s
  AND (%(before_at)s::timestamptz IS NULL
       OR (created_at, other) < (%(before_at)s::timestamptz, %(before_id)s::bigint))
ORDER BY created_at DESC, other DESC
LIMIT %(limit)s;

-- forget --
-- Forget every recorded pair between the two people (their profiles and tombstones).
WITH a AS (
    SELECT id FROM profiles
    WHERE account_id = %(account_id)s AND (id = %(a)s OR merged_into = %(a)s)
), b AS (
    SELECT id FROM profiles
    WHERE account_id = %(account_id)s AND (id = %(b)s OR merged_into = %(b)s)
)
DELETE FROM distinct_profiles d
WHERE d.account_id = %(account_id)s
  AND ((d.low_id IN (SELECT id FROM a) AND d.high_id IN (SELECT id FROM b))
       OR (d.low_id IN (SELECT id FROM b) AND d.high_id IN (SELECT id FROM a)))
RETURNING 1;

-- all_pairs --
-- Every pair of the account as the live profiles its ends stand for now (the sweep).
SELECT DISTINCT coalesce(a.merged_into, a.id), coalesce(b.merged_into, b.id)
FROM distinct_profiles d
JOIN profiles a ON a.account_id = d.account_id AND a.id = d.low_id
JOIN profiles b ON b.account_id = d.account_id AND b.id = d.high_id
WHERE d.account_id = %(account_id)s;
