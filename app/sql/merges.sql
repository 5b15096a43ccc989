-- resolve_ids --
-- The live profile each id stands for: itself, or the survivor a tombstone points at.
SELECT id, coalesce(merged_into, id) AS live_id FROM profiles
WHERE account_id = %(account_id)s AND id = ANY(%(ids)s::bigint[]);

-- resolve_contact_id --
-- The live profile a partner contact UUID stands for.
SELECT coalesce(merged_into, id) FROM profiles
WHERE account_id = %(account_id)s AND contact_id = %(contact_id)s;

-- lock_profiles --
-- Row-lock profiles in id order; reports tombstones. Within one statement the order is sorted;
-- erasure, tag edits and manual merges lock with it; the write path locks in its lookup
-- (resolution.sql), every profile its writes can touch in one such statement.
SELECT id, merged_into IS NULL AS live FROM profiles
WHERE account_id = %(account_id)s AND id = ANY(%(ids)s::bigint[])
ORDER BY id
FOR UPDATE;

-- load_facts --
-- Everything survivorship and consolidation look at: the profile's columns (filled in from
-- app/repositories/profiles.py), its identifiers, its tags' names and its events' count.
-- Three index lookups per profile; the full snapshot a merge record keeps is built where it
-- is written (record_merges), never carried through Python.
SELECT p.id, p.created_at, {columns}, p.names, p.custom_data,
       coalesce((SELECT json_agg(json_build_object('kind', i.kind, 'value', i.value,
                                 'norm', i.value_norm) ORDER BY i.id)
                 FROM profile_identifiers i
                 WHERE i.account_id = p.account_id AND i.profile_id = p.id), '[]') AS identifiers,
       ARRAY(SELECT t.name FROM profile_tags pt JOIN tags t
               ON t.account_id = pt.account_id AND t.id = pt.tag_id
             WHERE pt.account_id = p.account_id AND pt.profile_id = p.id
             ORDER BY t.id) AS tags,
       (SELECT count(*) FROM events e
        WHERE e.account_id = p.account_id AND e.profile_id = p.id) AS events
FROM profiles p
WHERE p.account_id = %(account_id)s AND p.id = ANY(%(ids)s::bigint[]);

-- snapshot --
-- Not a statement: the expression of profile ``p``'s full snapshot, as a merge record keeps it
-- and an unmerge restores it (load_snapshots, record_merges use it).
jsonb_build_object(
    -- The profile's own columns: not the tenant key, not the derived folded copies.
    'profile', to_jsonb(p) - ARRAY['account_id', {derived}],
    'identifiers', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                 'id', i.id, 'kind', i.kind, 'value', i.value,
                                 'primary', i.is_primary)
                                 ORDER BY i.is_primary DESC, i.id)
                             FROM profile_identifiers i
                             WHERE i.account_id = p.account_id AND i.profile_id = p.id),
                            '[]'),
    'tags', coalesce((SELECT jsonb_agg(jsonb_build_object('name', t.name, 'color', t.color)
                                       ORDER BY t.id)
                      FROM profile_tags pt JOIN tags t
                        ON t.account_id = pt.account_id AND t.id = pt.tag_id
                      WHERE pt.account_id = p.account_id AND pt.profile_id = p.id), '[]'),
    'event_ids', coalesce((SELECT jsonb_agg(e.id ORDER BY e.id) FROM events e
                           WHERE e.account_id = p.account_id AND e.profile_id = p.id), '[]'),
    -- What an unmerge gives back with it: its own tombstones and merge history.
    'tombstones', coalesce((SELECT jsonb_agg(t.id ORDER BY t.id) FROM profiles t
                            WHERE t.account_id = p.account_id AND t.merged_into = p.id),
                           '[]'),
    'history', coalesce((SELECT jsonb_agg(m.id ORDER BY m.created_at, m.id) FROM merges m
                         WHERE m.account_id = p.account_id AND m.person_id = p.id), '[]')
)

-- load_snapshots --
-- Full snapshots of these profiles, as a merge record would keep them.
SELECT p.id, {snapshot} AS snapshot
FROM profiles p
WHERE p.account_id = %(account_id)s AND p.id = ANY(%(ids)s::bigint[]);

-- consolidate_survivors --
-- Each merged person's custom data, earliest creation time and joined name history.
UPDATE profiles p SET custom_data = r.custom_data, created_at = r.created_at,
                      names = coalesce(r.names, p.names), updated_at = now()
FROM jsonb_to_recordset(%(rows)s::jsonb)
     AS r(id bigint, custom_data jsonb, created_at timestamptz, names text[])
WHERE p.account_id = %(account_id)s AND p.id = ANY(%(ids)s::bigint[]) AND p.id = r.id;

-- record_merges --
-- One record per merged profile, with its snapshot (built here, from its rows as they are
-- before this merge moves anything) and what its merge changed in the survivor. Clock time, a
-- microsecond apart in the list's order: merges keep their order (unmerge undoes them last
-- first).
INSERT INTO merges (account_id, person_id, survivor_id, merged_id, rule, score,
                    identifier_kind, identifier_value, request_id, snapshot, undo, created_at)
SELECT %(account_id)s, r.survivor, r.survivor, r.merged, r.rule, r.score,
       r.identifier_kind, r.identifier_value, %(request_id)s, {snapshot}, r.undo,
       t.at + r.seq * interval '1 microsecond'
FROM jsonb_to_recordset(%(rows)s::jsonb)
     AS r(survivor bigint, merged bigint, rule text, score float8, identifier_kind text,
          identifier_value text, undo jsonb, seq int)
     -- The ids as an array too: one index probe each, whatever the recordset's row estimate.
     JOIN profiles p ON p.account_id = %(account_id)s AND p.id = ANY(%(merged)s::bigint[])
                    AND p.id = r.merged,
     (SELECT clock_timestamp() AS at) t;

-- drop_duplicate_identifiers --
-- Identifiers a merged profile holds that its survivor, or a profile merged into the same
-- survivor ahead of it, holds too (shared phones): one row is enough. Rows are ranked per
-- survivor and value, the survivor's own first, then in merge order; later ones go.
WITH m AS MATERIALIZED (
    SELECT * FROM unnest(%(survivors)s::bigint[], %(merged)s::bigint[], %(seq)s::int[])
        AS m(survivor, merged, seq)
), held AS (
    SELECT i.id, m.survivor, m.seq, i.kind, i.value_norm, i.value
    FROM m JOIN profile_identifiers i
      ON i.account_id = %(account_id)s AND i.profile_id = m.merged
    UNION ALL
    SELECT NULL, s.survivor, -1, i.kind, i.value_norm, i.value
    FROM (SELECT DISTINCT survivor FROM m) s JOIN profile_identifiers i
      ON i.account_id = %(account_id)s AND i.profile_id = s.survivor
), ranked AS (
    SELECT id, row_number() OVER (
        PARTITION BY survivor, kind, value_norm IS NULL, coalesce(value_norm, value)
        ORDER BY seq, id) AS n
    FROM held
)
DELETE FROM profile_identifiers d
WHERE d.account_id = %(account_id)s
  AND d.id = ANY(ARRAY(SELECT id FROM ranked WHERE n > 1 AND id IS NOT NULL));

-- move_identifiers --
-- Hand the merged profiles' identifiers to their survivors; one stays primary only where its
-- survivor has no primary of that kind and no profile merged ahead of it brings one (the
-- survivor's non-empty values win, then rank order).
WITH m AS (
    SELECT * FROM unnest(%(survivors)s::bigint[], %(merged)s::bigint[], %(seq)s::int[])
        AS m(survivor, merged, seq)
)
UPDATE profile_identifiers i
SET profile_id = m.survivor,
    is_primary = i.is_primary
        AND NOT EXISTS (SELECT 1 FROM profile_identifiers s
                        WHERE s.account_id = i.account_id AND s.profile_id = m.survivor
                          AND s.kind = i.kind AND s.is_primary)
        AND NOT EXISTS (SELECT 1 FROM profile_identifiers e JOIN m ahead
                          ON ahead.merged = e.profile_id
                        WHERE e.account_id = i.account_id
                          AND e.profile_id = ANY(%(merged)s::bigint[])
                          AND ahead.survivor = m.survivor AND ahead.seq < m.seq
                          AND e.kind = i.kind AND e.is_primary)
FROM m
WHERE i.account_id = %(account_id)s AND i.profile_id = ANY(%(merged)s::bigint[])
  AND i.profile_id = m.merged;

-- move_tags --
-- Union the merged profiles' tags into their survivors'.
WITH m AS (
    SELECT * FROM unnest(%(survivors)s::bigint[], %(merged)s::bigint[]) AS m(survivor, merged)
), gone AS (
    DELETE FROM profile_tags pt
    USING m
    WHERE pt.account_id = %(account_id)s AND pt.profile_id = ANY(%(merged)s::bigint[])
      AND pt.profile_id = m.merged
    RETURNING m.survivor, pt.tag_id
)
INSERT INTO profile_tags (account_id, profile_id, tag_id)
SELECT DISTINCT %(account_id)s, survivor, tag_id FROM gone
ON CONFLICT DO NOTHING;

-- move_events --
-- Transaction history and interactions are preserved: events follow the person.
UPDATE events e SET profile_id = m.survivor
FROM unnest(%(survivors)s::bigint[], %(merged)s::bigint[]) AS m(survivor, merged)
WHERE e.account_id = %(account_id)s AND e.profile_id = ANY(%(merged)s::bigint[])
  AND e.profile_id = m.merged;

-- tombstone --
-- The merged profiles and every tombstone that pointed at them now point at their survivors,
-- so any chain of merges resolves in one step. The merged profiles are locked already; their
-- older tombstones are not, and a writer whose lookup predates their merge may hold one while
-- it waits for a profile this transaction holds: they are locked without waiting
-- (LockNotAvailable restarts this transaction instead of closing a cycle).
WITH m AS (
    SELECT * FROM unnest(%(survivors)s::bigint[], %(merged)s::bigint[]) AS m(survivor, merged)
), older AS (
    SELECT id FROM profiles
    WHERE account_id = %(account_id)s AND merged_into = ANY(%(merged)s::bigint[])
    ORDER BY id
    FOR UPDATE NOWAIT
)
UPDATE profiles p SET merged_into = m.survivor, merged_at = coalesce(p.merged_at, now())
FROM m
WHERE p.account_id = %(account_id)s
  AND (p.id = ANY(%(merged)s::bigint[]) OR p.id = ANY(ARRAY(SELECT id FROM older)))
  AND m.merged = coalesce(p.merged_into, p.id);

-- adopt_history --
-- The merged profiles' own histories now belong to their survivors' persons.
UPDATE merges g SET person_id = m.survivor
FROM unnest(%(survivors)s::bigint[], %(merged)s::bigint[]) AS m(survivor, merged)
WHERE g.account_id = %(account_id)s AND g.person_id = ANY(%(merged)s::bigint[])
  AND g.person_id = m.merged;

-- list_merges --
-- A person's merge history, newest first, keyset-paginated on (created_at, id): ids are random.
SELECT id, survivor_id, merged_id, rule, score, identifier_kind, identifier_value,
       request_id, snapshot, created_at, undone_at, undoes
FROM merges
WHERE account_id = %(account_id)s AND person_id = %(person_id)s
  AND (%(before_at)s::timestamptz IS NULL
       OR (created_at, id) < (%(before_at)s::timestamptz, %(before_id)s::bigint))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s;

-- erase_history --
-- Right to erasure, step 1 (the live profile is row-locked already): the person's merge
-- history, snapshots included.
DELETE FROM merges WHERE account_id = %(account_id)s AND person_id = %(id)s;

-- erase_profiles --
-- Right to erasure, step 2: the survivor and its tombstones. Identifiers, tag links and events
-- go with the rows through ON DELETE CASCADE.
DELETE FROM profiles
WHERE account_id = %(account_id)s AND (id = %(id)s OR merged_into = %(id)s)
RETURNING id;
