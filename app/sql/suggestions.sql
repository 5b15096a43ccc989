-- load_subject --
-- The live profile whose duplicates are asked for: its name with the stored blocking keys
-- (app/identity/blocking.py), company and city (and their folds), emails and phones.
SELECT p.id, p.name, p.name_key, p.name_keys, p.company, p.company_fold, p.city, p.city_fold,
       coalesce((SELECT json_agg(json_build_object('kind', i.kind, 'norm', i.norm,
                                                   'value', i.value))
                 FROM (SELECT i.kind, i.value_norm AS norm, i.value FROM profile_identifiers i
                       WHERE i.account_id = p.account_id AND i.profile_id = p.id
                         AND i.kind IN ('email', 'phone') AND i.value_norm IS NOT NULL
                       ORDER BY i.is_primary DESC, i.id
                       LIMIT %(identifier_limit)s) i), '[]') AS identifiers
FROM profiles p
WHERE p.account_id = %(account_id)s AND p.id = %(id)s AND p.merged_into IS NULL;

-- find_candidates --
-- Live profiles of the account worth comparing with the subject, each lookup through an index
-- and bounded, so that a common name or a front-desk phone cannot make it scan: the same
-- phone; an email a known domain typo away and a phone one digit away (both enumerated in
-- Python, looked up exactly; the phone only among the same name); the same name key; an
-- overlapping loose name key (initials, middle names, typos: GIN); the same name with the
-- same company or city. Then what scoring needs of each, in the same statement.
WITH found AS (
    (SELECT i.profile_id AS id FROM profile_identifiers i
     WHERE i.account_id = %(account_id)s AND i.kind = 'phone'
       AND i.value_norm = ANY(%(phones)s::text[]) AND i.profile_id <> %(id)s
     LIMIT %(phone_limit)s)
    UNION ALL
    (SELECT i.profile_id FROM profile_identifiers i
     WHERE i.account_id = %(account_id)s AND i.kind = 'email'
       AND i.value_norm = ANY(%(email_probes)s::text[]) AND i.profile_id <> %(id)s
     LIMIT %(small_limit)s)
    UNION ALL
    (SELECT i.profile_id FROM profile_identifiers i
     JOIN profiles p ON p.account_id = i.account_id AND p.id = i.profile_id
     WHERE i.account_id = %(account_id)s AND i.kind = 'phone'
       AND i.value_norm = ANY(%(phone_probes)s::text[]) AND i.profile_id <> %(id)s
       AND p.merged_into IS NULL AND p.name_keys && %(name_keys)s::text[]
     LIMIT %(small_limit)s)
    UNION ALL
    (SELECT p.id FROM profiles p
     WHERE p.account_id = %(account_id)s AND p.name_key = %(name_key)s
       AND p.merged_into IS NULL AND p.id <> %(id)s
     LIMIT %(name_limit)s)
    UNION ALL
    (SELECT p.id FROM profiles p
     WHERE p.account_id = %(account_id)s AND p.name_keys && %(name_keys)s::text[]
       AND p.merged_into IS NULL AND p.name_key <> %(name_key)s AND p.id <> %(id)s
     LIMIT %(name_limit)s)
    UNION ALL
    (SELECT p.id FROM profiles p
     WHERE p.account_id = %(account_id)s AND p.name_key = ANY(%(name_keys)s::text[])
       AND p.company_fold = %(company_fold)s AND p.merged_into IS NULL AND p.id <> %(id)s
     LIMIT %(small_limit)s)
    UNION ALL
    (SELECT p.id FROM profiles p
     WHERE p.account_id = %(account_id)s AND p.name_key = ANY(%(name_keys)s::text[])
       AND p.city_fold = %(city_fold)s AND p.merged_into IS NULL AND p.id <> %(id)s
     LIMIT %(small_limit)s)
)
SELECT p.id, p.name, p.company, p.company_fold, p.city, p.city_fold,
       coalesce(ids.identifiers, '[]') AS identifiers
FROM profiles p
LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('kind', i.kind, 'norm', i.norm, 'value', i.value))
               AS identifiers
    FROM (SELECT i.kind, i.value_norm AS norm, i.value FROM profile_identifiers i
          WHERE i.account_id = p.account_id AND i.profile_id = p.id
            AND i.kind IN ('email', 'phone') AND i.value_norm IS NOT NULL
          ORDER BY i.is_primary DESC, i.id
          LIMIT %(identifier_limit)s) i
) ids ON true
WHERE p.account_id = %(account_id)s AND p.id = ANY(ARRAY(SELECT DISTINCT id FROM found))
  AND p.merged_into IS NULL;
