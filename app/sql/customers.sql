-- load_customers --
-- Customer objects for the given ids (in no particular order: callers order them).
-- The profile columns are filled in from app/repositories/profiles.py (COLUMNS).
SELECT p.id, p.contact_id, {columns}, ids.email, ids.user_id, ids.phone,
       coalesce(tg.tags, '[]'::json) AS tags, p.custom_data, p.created_at, p.updated_at,
       coalesce(ids.emails, '{{}}') AS emails, coalesce(ids.phones, '{{}}') AS phones,
       coalesce(ids.user_ids, '{{}}') AS user_ids, coalesce(mg.merged_ids, '{{}}') AS merged_ids
FROM profiles p
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('name', t.name, 'color', t.color) ORDER BY t.id) AS tags
    FROM profile_tags pt
    JOIN tags t ON t.account_id = pt.account_id AND t.id = pt.tag_id
    WHERE pt.account_id = p.account_id AND pt.profile_id = p.id
) tg ON true
LEFT JOIN LATERAL (
    -- One pass over the person's identifiers: the primary of each kind and all of them.
    SELECT min(i.value) FILTER (WHERE i.kind = 'email' AND i.is_primary) AS email,
           min(i.value) FILTER (WHERE i.kind = 'external_id' AND i.is_primary) AS user_id,
           min(i.value) FILTER (WHERE i.kind = 'phone' AND i.is_primary) AS phone,
           array_agg(i.value ORDER BY i.is_primary DESC, i.id) FILTER (WHERE i.kind = 'email')
               AS emails,
           array_agg(i.value ORDER BY i.is_primary DESC, i.id) FILTER (WHERE i.kind = 'phone')
               AS phones,
           array_agg(i.value ORDER BY i.is_primary DESC, i.id)
               FILTER (WHERE i.kind = 'external_id') AS user_ids
    FROM profile_identifiers i
    WHERE i.account_id = p.account_id AND i.profile_id = p.id
) ids ON true
LEFT JOIN LATERAL (
    SELECT array_agg(t.id ORDER BY t.id) AS merged_ids FROM profiles t
    WHERE t.account_id = p.account_id AND t.merged_into = p.id
) mg ON true
WHERE p.account_id = %(account_id)s AND p.id = ANY(%(ids)s::bigint[]);
