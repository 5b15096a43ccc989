-- insert_tags --
-- Create the tags the account does not have yet, keeping the spelling given first; rows are
-- inserted in the order of the (pre-sorted) names, the one order tag rows are locked in.
INSERT INTO tags (account_id, name, name_norm, color)
SELECT %(account_id)s, t.name, t.norm, coalesce(t.color, %(default_color)s)
FROM unnest(%(names)s::text[], %(names_norm)s::text[], %(colors)s::text[])
     WITH ORDINALITY AS t(name, norm, color, n)
ORDER BY t.n
ON CONFLICT (account_id, name_norm) DO NOTHING;

-- recolor_tags --
-- Sending a color for an existing tag updates the account's tag. The rows are locked first,
-- in the order of the (pre-sorted) names: an UPDATE joined with the list would lock them in
-- whatever order its plan visits them.
WITH recolored AS MATERIALIZED (
    SELECT tags.id, t.color
    FROM unnest(%(names_norm)s::text[], %(colors)s::text[]) WITH ORDINALITY AS t(norm, color, n)
    JOIN tags ON tags.account_id = %(account_id)s AND tags.name_norm = t.norm
    WHERE t.color IS NOT NULL AND tags.color <> t.color
    ORDER BY t.n
    FOR NO KEY UPDATE OF tags
)
UPDATE tags SET color = recolored.color
FROM recolored
WHERE tags.account_id = %(account_id)s AND tags.id = recolored.id;

-- tag_ids --
-- Ids of the account's tags with these names (case-insensitive), by normalized name.
SELECT name_norm, id FROM tags
WHERE account_id = %(account_id)s AND name_norm = ANY(%(names_norm)s::text[]);

-- attach_tags --
-- Add tags to a customer, keeping those it has.
INSERT INTO profile_tags (account_id, profile_id, tag_id)
SELECT %(account_id)s, %(profile_id)s, unnest(%(tag_ids)s::bigint[])
ON CONFLICT DO NOTHING;

-- detach_tags_named --
-- Remove the named tags from a customer (folded names: case-insensitive).
DELETE FROM profile_tags pt USING tags t
WHERE pt.account_id = %(account_id)s AND pt.profile_id = %(profile_id)s
  AND t.account_id = pt.account_id AND t.id = pt.tag_id
  AND t.name_norm = ANY(%(names_norm)s::text[]);

-- list_tags --
-- The account's tags by name, keyset-paginated on the normalized name.
SELECT name, color, name_norm FROM tags
WHERE account_id = %(account_id)s AND (%(after)s::text IS NULL OR name_norm > %(after)s)
ORDER BY name_norm
LIMIT %(limit)s;
