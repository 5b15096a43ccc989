-- retire_identifiers --
-- Step 1 of a write's identifiers, for every profile of the write at once: rows that stop
-- resolving to their profile go, primaries that step down are demoted. Separate from step 2
-- because unique indexes are checked row by row: a new primary must never meet the old one.
WITH gone AS (
    DELETE FROM profile_identifiers
    WHERE account_id = %(account_id)s AND id = ANY(%(delete)s::bigint[])
)
UPDATE profile_identifiers SET is_primary = false
WHERE account_id = %(account_id)s AND id = ANY(%(demote)s::bigint[]);

-- apply_writes --
-- Step 2, the rest of a list of writes in one statement: profiles inserted or updated
-- (an absent key of `f` keeps the column, null clears it; custom data: `cd_remove` keys go, then
-- `cd_set` keys are set, from empty with `cd_clear`; folded copies come folded from Python),
-- identifiers promoted (with the spelling just sent) or added, tag links set exactly (for
-- the profiles in `exact_tags`) or added, by normalized tag name (the tags were ensured by
-- the statement before). The column lists come from app/repositories/profiles.py's COLUMNS.
-- A name written (`name_norm`, normalized by Python) goes in front of the name history
-- `names`, once; the history keeps the latest `names_kept` (app/identity/names.py).
WITH w AS MATERIALIZED (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb)
        AS w(id bigint, new boolean, f jsonb, cd_set jsonb, cd_remove text[], cd_clear boolean,
             name_norm text)
), inserted AS (
    INSERT INTO profiles (account_id, id, {columns}, custom_data, names)
    SELECT %(account_id)s, w.id, {values}, w.cd_set - w.cd_remove,
           array_remove(ARRAY[w.name_norm], NULL)
    FROM w, jsonb_populate_record(NULL::profiles, w.f) r
    WHERE w.new
    ORDER BY w.id
    RETURNING id
), updated AS (
    -- jsonb_populate_record(p, f): the row with the keys of f replacing its columns.
    UPDATE profiles p SET
        ({columns}) = (SELECT {values} FROM jsonb_populate_record(p, w.f) r),
        custom_data = (CASE WHEN w.cd_clear THEN '{{}}'::jsonb ELSE p.custom_data END
                       - w.cd_remove) || w.cd_set,
        names = CASE WHEN w.name_norm IS NULL THEN p.names
                     ELSE (w.name_norm || array_remove(p.names, w.name_norm))[:%(names_kept)s]
                END,
        updated_at = now()
    FROM w
    -- The ids as an array: one index probe each, whatever the recordset's row estimate.
    WHERE p.account_id = %(account_id)s AND p.id = ANY(ARRAY(SELECT id FROM w WHERE NOT w.new))
      AND p.id = w.id AND NOT w.new
    RETURNING p.id
), promoted AS (
    UPDATE profile_identifiers i SET is_primary = true, value = u.value
    FROM unnest(%(promote)s::bigint[], %(promote_values)s::text[]) AS u(id, value)
    WHERE i.account_id = %(account_id)s AND i.id = ANY(%(promote)s::bigint[]) AND i.id = u.id
    RETURNING i.id
), added AS (
    INSERT INTO profile_identifiers (account_id, profile_id, kind, value, value_norm, is_primary)
    SELECT %(account_id)s, a.profile_id, a.kind, a.value, a.norm, a.is_primary
    FROM unnest(%(add_profiles)s::bigint[], %(add_kinds)s::text[], %(add_values)s::text[],
                %(add_norms)s::text[], %(add_primary)s::boolean[])
         AS a(profile_id, kind, value, norm, is_primary)
    RETURNING id
), links AS (
    SELECT l.profile_id, t.id AS tag_id
    FROM unnest(%(tag_profiles)s::bigint[], %(tag_norms)s::text[]) AS l(profile_id, norm)
    JOIN tags t ON t.account_id = %(account_id)s AND t.name_norm = l.norm
), untagged AS (
    DELETE FROM profile_tags pt
    WHERE pt.account_id = %(account_id)s AND pt.profile_id = ANY(%(exact_tags)s::bigint[])
      AND NOT EXISTS (SELECT 1 FROM links
                      WHERE links.profile_id = pt.profile_id AND links.tag_id = pt.tag_id)
    RETURNING 1
), tagged AS (
    INSERT INTO profile_tags (account_id, profile_id, tag_id)
    SELECT %(account_id)s, profile_id, tag_id FROM links
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated) AS profiles,
       (SELECT count(*) FROM promoted) + (SELECT count(*) FROM added) AS identifiers,
       (SELECT count(*) FROM untagged) + (SELECT count(*) FROM tagged) AS tag_links;
