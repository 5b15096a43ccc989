-- recolor_tags --
-- Sending a color for an existing tag updates the account's tag.
UPDATE tags SET color = t.color
FROM unnest(%(names)s::text[], %(colors)s::text[]) AS t(name, color)
WHERE tags.account_id = %(account_id)s AND tags.name_norm = lower(t.name)
  AND t.color IS NOT NULL AND tags.color <> t.color;

-- insert_tags --
-- Create the tags the account does not have yet, keeping the spelling given first.
INSERT INTO tags (account_id, name, name_norm, color)
SELECT %(account_id)s, t.name, lower(t.name), coalesce(t.color, %(default_color)s)
FROM unnest(%(names)s::text[], %(colors)s::text[]) AS t(name, color)
ON CONFLICT (account_id, name_norm) DO NOTHING;

-- tag_ids --
-- Ids of the account's tags with these names (case-insensitive).
SELECT id FROM tags
WHERE account_id = %(account_id)s AND name_norm = ANY(%(names_norm)s::text[]);

-- attach_tags --
-- Add tags to a customer, keeping those it has.
INSERT INTO profile_tags (account_id, profile_id, tag_id)
SELECT %(account_id)s, %(profile_id)s, unnest(%(tag_ids)s::bigint[])
ON CONFLICT DO NOTHING;

-- detach_tags_except --
-- Remove every tag of a customer but these (an empty list removes all).
DELETE FROM profile_tags
WHERE account_id = %(account_id)s AND profile_id = %(profile_id)s
  AND NOT (tag_id = ANY(%(tag_ids)s::bigint[]));

-- detach_tags_named --
-- Remove the named tags from a customer (names match case-insensitively).
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
