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
-- Everything survivorship and consolidation look at, plus a full snapshot for the history.
-- The column lists are filled in from app/repositories/profiles.py (COLUMNS).
SELECT p.id, p.created_at, {columns}, p.names, p.custom_data,
       (SELECT count(*) FROM profile_tags pt
         WHERE pt.account_id = p.account_id AND pt.profile_id = p.id) AS tags,
       (SELECT count(*) FROM events e
         WHERE e.account_id = p.account_id AND e.profile_id = p.id) AS events,
       coalesce((SELECT json_agg(json_build_object('kind', i.kind, 'value', i.value,
                                 'norm', i.value_norm, 'primary', i.is_primary) ORDER BY i.id)
                 FROM profile_identifiers i
                 WHERE i.account_id = p.account_id AND i.profile_id = p.id), '[]') AS identifiers,
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
       ) AS snapshot
FROM profiles p
WHERE p.account_id = %(account_id)s AND p.id = ANY(%(ids)s::bigint[]);

-- consolidate_survivor --
-- The merged person's custom data, the earliest creation time and the joined name history.
UPDATE profiles SET custom_data = %(custom_data)s, created_at = %(created_at)s,
                    names = coalesce(%(names)s::text[], names),
                    updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s;

-- drop_duplicate_identifiers --
-- Identifiers the merged profile holds that the survivor holds too (shared phones).
DELETE FROM profile_identifiers d
WHERE d.account_id = %(account_id)s AND d.profile_id = %(merged)s
  AND EXISTS (SELECT 1 FROM profile_identifiers s
              WHERE s.account_id = d.account_id AND s.profile_id = %(survivor)s
                AND s.kind = d.kind
                AND (s.value_norm = d.value_norm
                     OR (s.value_norm IS NULL AND d.value_norm IS NULL AND s.value = d.value)));

-- move_identifiers --
-- Hand the merged profile's identifiers to the survivor; they stay primary only where the
-- survivor has no primary of that kind (its non-empty values win).
UPDATE profile_identifiers i
SET profile_id = %(survivor)s,
    is_primary = i.is_primary AND NOT EXISTS (
        SELECT 1 FROM profile_identifiers s
        WHERE s.account_id = i.account_id AND s.profile_id = %(survivor)s
          AND s.kind = i.kind AND s.is_primary)
WHERE i.account_id = %(account_id)s AND i.profile_id = %(merged)s;

-- move_tags --
-- Union the merged profile's tags into the survivor's.
WITH gone AS (
    DELETE FROM profile_tags
    WHERE account_id = %(account_id)s AND profile_id = %(merged)s
    RETURNING tag_id
)
INSERT INTO profile_tags (account_id, profile_id, tag_id)
SELECT %(account_id)s, %(survivor)s, tag_id FROM gone
ON CONFLICT DO NOTHING;

-- move_events --
-- Transaction history and interactions are preserved: events follow the person.
UPDATE events SET profile_id = %(survivor)s
WHERE account_id = %(account_id)s AND profile_id = %(merged)s;

-- tombstone --
-- The merged profile and every tombstone that pointed at it now point at the survivor, so any
-- chain of merges resolves in one step.
UPDATE profiles SET merged_into = %(survivor)s,
                    merged_at = coalesce(merged_at, now())
WHERE account_id = %(account_id)s AND (id = %(merged)s OR merged_into = %(merged)s);

-- record_merge --
-- One merge in the person's history, with the merged profile as it was before and what the
-- merge changed in the survivor. Clock time: merges of one transaction keep their order.
INSERT INTO merges (account_id, person_id, survivor_id, merged_id, rule, score,
                    identifier_kind, identifier_value, request_id, snapshot, undo, created_at)
VALUES (%(account_id)s, %(survivor)s, %(survivor)s, %(merged)s, %(rule)s, %(score)s,
        %(identifier_kind)s, %(identifier_value)s, %(request_id)s, %(snapshot)s, %(undo)s,
        clock_timestamp());

-- adopt_history --
-- The merged profile's own history now belongs to the survivor's person.
UPDATE merges SET person_id = %(survivor)s
WHERE account_id = %(account_id)s AND person_id = %(merged)s;

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
