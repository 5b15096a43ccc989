-- new_ids --
-- Ids for profiles a write is about to create: the service-wide sequence, never reused.
SELECT array_agg(nextval('profiles_id_seq')) FROM generate_series(1, %(count)s);

-- get_contacts --
-- The partner API's view of profiles.
SELECT p.id, p.contact_id, p.name, p.professional_id, p.created_at,
       e.value AS email, x.value AS external_id
FROM profiles p
LEFT JOIN profile_identifiers e
       ON e.account_id = p.account_id AND e.profile_id = p.id
      AND e.kind = 'email' AND e.is_primary
LEFT JOIN profile_identifiers x
       ON x.account_id = p.account_id AND x.profile_id = p.id
      AND x.kind = 'external_id' AND x.is_primary
WHERE p.account_id = %(account_id)s AND p.id = ANY(%(ids)s::bigint[]);
