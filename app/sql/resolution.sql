-- lookup --
-- Everything identity resolution needs for a list of writes, in one statement, taken after
-- the identifier locks: the live profile each named id stands for, the profiles named or
-- holding the writes' emails and external ids, and the `extra` ids (row-locked in id order;
-- app/repositories/resolution.py also runs it without the lock), each with
-- its identifiers, and the holders of the writes' phones with their names (not locked: most
-- cannot match). Names come with the name history (`names`): the phone + name rule compares
-- a write with every name a profile has been written with. Identifiers are described only
-- when `describe` (some write carries one).
-- `fresh` is false for a described profile whose row changed while its lock was awaited:
-- its identifiers here predate that change, so the caller looks again.
-- `new_ids`: one id drawn from the service-wide sequence for each write of `creating` none of
-- whose identifiers (`ident_*`, by write index, a subset of those above) anyone holds: those
-- create their person, so their ids need no statement of their own. Writes that find someone
-- draw nothing: the gap between two of an account's ids counts the creates of all accounts,
-- not their writes.
WITH named AS (
    SELECT id, coalesce(merged_into, id) AS live_id FROM profiles
    WHERE account_id = %(account_id)s AND id = ANY(%(named)s::bigint[])
), holding AS (
    SELECT i.profile_id, w.kind, w.norm FROM profile_identifiers i
    JOIN unnest(%(kinds)s::text[], %(norms)s::text[]) AS w(kind, norm)
      ON i.kind = w.kind AND i.value_norm = w.norm
    WHERE i.account_id = %(account_id)s
), wanted AS (
    SELECT live_id AS id FROM named UNION SELECT profile_id FROM holding
    UNION SELECT unnest(%(extra)s::bigint[])
), locked AS (
    SELECT p.id, p.merged_into IS NULL AS live, p.name, p.names, p.xmin::text AS version
    FROM profiles p
    -- An array, so that the plan is one index probe per id whatever the estimates.
    WHERE p.account_id = %(account_id)s AND p.id = ANY(ARRAY(SELECT id FROM wanted))
    ORDER BY p.id
    FOR UPDATE
), phones AS (
    SELECT n.norm, h.profile_id, h.name, h.names
    FROM unnest(%(phones)s::text[]) AS n(norm)
    CROSS JOIN LATERAL (
        SELECT i.profile_id, p.name, p.names FROM profile_identifiers i
        JOIN profiles p ON p.account_id = i.account_id AND p.id = i.profile_id
        WHERE i.account_id = %(account_id)s AND i.kind = 'phone' AND i.value_norm = n.norm
        ORDER BY i.profile_id
        LIMIT %(phone_limit)s
    ) h
), fresh_ids AS (
    -- Held: what `holding` and `phones` found, not a second look at the identifiers.
    SELECT nextval('profiles_id_seq') AS id
    FROM unnest(%(creating)s::integer[]) AS c(w)
    WHERE NOT EXISTS (
        SELECT 1
        FROM unnest(%(ident_writes)s::integer[], %(ident_kinds)s::text[], %(ident_norms)s::text[])
             AS x(w, kind, norm)
        WHERE x.w = c.w
          AND ((x.kind, x.norm) IN (SELECT kind, norm FROM holding)
               OR (x.kind = 'phone' AND x.norm IN (SELECT norm FROM phones)))
    )
)
SELECT
    (SELECT coalesce(json_agg(json_build_array(id, live_id)), '[]') FROM named) AS named,
    (SELECT coalesce(json_agg(json_build_object(
         'id', c.id, 'live', c.live, 'name', c.name, 'names', c.names,
         'fresh', NOT %(describe)s
                  OR c.version = (SELECT q.xmin::text FROM profiles q
                                  WHERE q.account_id = %(account_id)s AND q.id = c.id),
         'identifiers', CASE WHEN %(describe)s THEN
                            (SELECT coalesce(json_agg(json_build_array(
                                        i.id, i.kind, i.value, i.value_norm, i.is_primary)
                                        ORDER BY i.is_primary DESC, i.id), '[]')
                             FROM profile_identifiers i
                             WHERE i.account_id = %(account_id)s AND i.profile_id = c.id)
                        ELSE '[]' END)
         ORDER BY c.id), '[]') FROM locked c) AS profiles,
    (SELECT coalesce(json_agg(json_build_array(norm, profile_id, name, names)), '[]')
     FROM phones)
        AS phones,
    ARRAY(SELECT id FROM fresh_ids) AS new_ids;
