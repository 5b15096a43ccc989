-- get_attribute_types --
-- Types of the account's attributes with these names.
SELECT name, type FROM custom_attributes
WHERE account_id = %(account_id)s AND name = ANY(%(names)s::text[]);

-- define_attribute --
-- Define an attribute; returns nothing when the name is taken.
INSERT INTO custom_attributes (account_id, name, type, defined)
VALUES (%(account_id)s, %(name)s, %(type)s, %(defined)s)
ON CONFLICT (account_id, name) DO NOTHING
RETURNING name, type, defined, created_at;

-- list_attributes --
-- The account's attributes by name, keyset-paginated.
SELECT name, type, defined, created_at FROM custom_attributes
WHERE account_id = %(account_id)s AND (%(after)s::text IS NULL OR name > %(after)s)
ORDER BY name
LIMIT %(limit)s;

-- lock_definitions --
-- Serializes attribute definitions of one account (the per-account cap); NO KEY UPDATE does
-- not block the foreign-key checks of concurrent inserts that reference the account.
SELECT 1 FROM accounts WHERE id = %(account_id)s FOR NO KEY UPDATE;

-- count_attributes --
-- How many attributes the account has defined.
SELECT count(*) FROM custom_attributes WHERE account_id = %(account_id)s;
