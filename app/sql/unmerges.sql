-- merge_of --
-- The merge that made this profile a tombstone (and is not undone).
SELECT id, survivor_id, person_id, created_at, undo, snapshot FROM merges
WHERE account_id = %(account_id)s AND merged_id = %(merged)s
  AND rule <> 'unmerge' AND undone_at IS NULL
ORDER BY created_at DESC
LIMIT 1;

-- later_merge --
-- The latest merge after that one which involves its survivor: a clean undo needs it undone
-- first (it may have built on what the earlier merge brought).
SELECT id, survivor_id, merged_id FROM merges
WHERE account_id = %(account_id)s AND rule <> 'unmerge' AND undone_at IS NULL
  AND created_at > %(after)s
  AND (survivor_id = %(survivor)s OR merged_id = %(survivor)s)
ORDER BY created_at DESC
LIMIT 1;

-- revive --
-- The tombstone is a live profile again, created when it was first created.
UPDATE profiles SET merged_into = NULL, merged_at = NULL, created_at = %(created_at)s
WHERE account_id = %(account_id)s AND id = %(merged)s AND merged_into = %(survivor)s;

-- survivor_created_at --
UPDATE profiles SET created_at = %(created_at)s
WHERE account_id = %(account_id)s AND id = %(survivor)s;

-- survivor_names --
-- The survivor's name history without the names the merge brought.
UPDATE profiles SET names = %(names)s::text[]
WHERE account_id = %(account_id)s AND id = %(survivor)s;

-- identifiers_back --
-- The merged profile's identifier rows the survivor still holds go back, with the primary
-- flags of the snapshot; answers the kinds whose primary the survivor lost that way.
WITH back AS (
    SELECT i.id, i.kind, i.is_primary AS was_primary, s.is_primary
    FROM profile_identifiers i
    JOIN unnest(%(ids)s::bigint[], %(primary)s::boolean[]) AS s(id, is_primary) ON s.id = i.id
    WHERE i.account_id = %(account_id)s AND i.profile_id = %(survivor)s
      AND i.id = ANY(%(ids)s::bigint[])
), moved AS (
    UPDATE profile_identifiers i SET profile_id = %(merged)s, is_primary = back.is_primary
    FROM back
    WHERE i.account_id = %(account_id)s AND i.id = back.id
    RETURNING i.id
)
SELECT array_agg(DISTINCT kind) FILTER (WHERE was_primary),
       array_agg(id)
FROM back;

-- identifiers_again --
-- Identifiers of the snapshot whose rows are gone (a shared phone the survivor also held, a
-- value a later write removed): added back, unless another profile holds them now.
INSERT INTO profile_identifiers (account_id, profile_id, kind, value, value_norm, is_primary)
SELECT %(account_id)s, %(merged)s, a.kind, a.value, a.norm, a.is_primary
FROM unnest(%(kinds)s::text[], %(values)s::text[], %(norms)s::text[], %(primary)s::boolean[])
     AS a(kind, value, norm, is_primary)
ON CONFLICT DO NOTHING;

-- promote_lost_primaries --
-- A kind whose primary went back to the merged profile gets the survivor's oldest remaining
-- row of that kind as its primary.
UPDATE profile_identifiers SET is_primary = true
WHERE account_id = %(account_id)s AND id IN (
    SELECT DISTINCT ON (kind) id FROM profile_identifiers
    WHERE account_id = %(account_id)s AND profile_id = %(survivor)s
      AND kind = ANY(%(kinds)s::text[])
    ORDER BY kind, id);

-- events_back --
UPDATE events SET profile_id = %(merged)s
WHERE account_id = %(account_id)s AND profile_id = %(survivor)s
  AND id = ANY(%(ids)s::bigint[]);

-- tombstones_back --
-- The profiles merged into the merged one before (its own tombstones) point at it again.
UPDATE profiles SET merged_into = %(merged)s
WHERE account_id = %(account_id)s AND merged_into = %(survivor)s
  AND id = ANY(%(ids)s::bigint[]);

-- history_back --
UPDATE merges SET person_id = %(merged)s
WHERE account_id = %(account_id)s AND person_id = %(survivor)s
  AND id = ANY(%(ids)s::bigint[]);

-- record_unmerge --
-- The undone merge is marked; the unmerge is a record of the survivor's history, with the
-- survivor as it was before it.
WITH undone AS (
    UPDATE merges SET undone_at = clock_timestamp()
    WHERE account_id = %(account_id)s AND id = %(merge_id)s AND undone_at IS NULL
    RETURNING id
)
INSERT INTO merges (account_id, person_id, survivor_id, merged_id, rule, request_id,
                    snapshot, undoes, created_at)
SELECT %(account_id)s, %(survivor)s, %(survivor)s, %(merged)s, 'unmerge', %(request_id)s,
       %(snapshot)s, id, clock_timestamp()
FROM undone
RETURNING id;
