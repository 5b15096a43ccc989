-- insert_profile --
-- Create a person; ids come from the service-wide sequence and the UUID default.
INSERT INTO profiles (account_id, name, professional_id)
VALUES (%(account_id)s, %(name)s, %(professional_id)s)
RETURNING id;

-- update_profile --
-- Partial update: each `set_x` flag says whether the request carried field x (null clears).
UPDATE profiles SET
    name = CASE WHEN %(set_name)s THEN %(name)s ELSE name END,
    professional_id = CASE WHEN %(set_professional_id)s
                           THEN %(professional_id)s::uuid ELSE professional_id END,
    updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s
RETURNING id;

-- get_contact --
-- The partner API's view of one profile, by profile id or by contact UUID.
SELECT p.id, p.contact_id, p.name, p.professional_id, p.created_at,
       e.value AS email, x.value AS external_id
FROM profiles p
LEFT JOIN profile_identifiers e
       ON e.account_id = p.account_id AND e.profile_id = p.id
      AND e.kind = 'email' AND e.is_primary
LEFT JOIN profile_identifiers x
       ON x.account_id = p.account_id AND x.profile_id = p.id
      AND x.kind = 'external_id' AND x.is_primary
WHERE p.account_id = %(account_id)s
  AND (p.id = %(id)s OR p.contact_id = %(contact_id)s);
