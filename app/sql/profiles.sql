-- insert_profile --
-- Create an empty person; ids come from the service-wide sequence and the UUID default.
-- Its fields are then written by update_profile, the one write path of both APIs.
INSERT INTO profiles (account_id) VALUES (%(account_id)s)
RETURNING id;

-- update_profile --
-- Partial update: each `set_x` flag says whether the write carries field x (null clears it).
-- Custom data is merged: `custom_data_set` keys replace, `custom_data_remove` keys go.
-- Searchable text columns carry a copy folded in Python (`x_fold`), written with them.
UPDATE profiles SET
    name = CASE WHEN %(set_name)s THEN %(name)s ELSE name END,
    professional_id = CASE WHEN %(set_professional_id)s
                           THEN %(professional_id)s::uuid ELSE professional_id END,
    company = CASE WHEN %(set_company)s THEN %(company)s ELSE company END,
    first_seen = CASE WHEN %(set_first_seen)s
                      THEN %(first_seen)s::timestamptz ELSE first_seen END,
    last_seen = CASE WHEN %(set_last_seen)s THEN %(last_seen)s::timestamptz ELSE last_seen END,
    region_code = CASE WHEN %(set_region_code)s THEN %(region_code)s ELSE region_code END,
    country_code = CASE WHEN %(set_country_code)s THEN %(country_code)s ELSE country_code END,
    city = CASE WHEN %(set_city)s THEN %(city)s ELSE city END,
    unsubscribed = CASE WHEN %(set_unsubscribed)s
                        THEN %(unsubscribed)s::boolean ELSE unsubscribed END,
    blocked = CASE WHEN %(set_blocked)s THEN %(blocked)s::boolean ELSE blocked END,
    source = CASE WHEN %(set_source)s THEN %(source)s ELSE source END,
    referer = CASE WHEN %(set_referer)s THEN %(referer)s ELSE referer END,
    last_page = CASE WHEN %(set_last_page)s THEN %(last_page)s ELSE last_page END,
    locale = CASE WHEN %(set_locale)s THEN %(locale)s ELSE locale END,
    created_from = CASE WHEN %(set_created_from)s THEN %(created_from)s ELSE created_from END,
    integration_id = CASE WHEN %(set_integration_id)s
                          THEN %(integration_id)s ELSE integration_id END,
    notes = CASE WHEN %(set_notes)s THEN %(notes)s ELSE notes END,
    name_fold = CASE WHEN %(set_name)s THEN %(name_fold)s ELSE name_fold END,
    company_fold = CASE WHEN %(set_company)s THEN %(company_fold)s ELSE company_fold END,
    city_fold = CASE WHEN %(set_city)s THEN %(city_fold)s ELSE city_fold END,
    country_code_fold = CASE WHEN %(set_country_code)s
                             THEN %(country_code_fold)s ELSE country_code_fold END,
    region_code_fold = CASE WHEN %(set_region_code)s
                            THEN %(region_code_fold)s ELSE region_code_fold END,
    custom_data = (CASE WHEN %(clear_custom_data)s THEN '{}'::jsonb ELSE custom_data END
                   || %(custom_data_set)s::jsonb) - %(custom_data_remove)s::text[],
    updated_at = now()
WHERE account_id = %(account_id)s AND id = %(id)s;

-- get_contact --
-- The partner API's view of one profile.
SELECT p.id, p.contact_id, p.name, p.professional_id, p.created_at,
       e.value AS email, x.value AS external_id
FROM profiles p
LEFT JOIN profile_identifiers e
       ON e.account_id = p.account_id AND e.profile_id = p.id
      AND e.kind = 'email' AND e.is_primary
LEFT JOIN profile_identifiers x
       ON x.account_id = p.account_id AND x.profile_id = p.id
      AND x.kind = 'external_id' AND x.is_primary
WHERE p.account_id = %(account_id)s AND p.id = %(id)s;
