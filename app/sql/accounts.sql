-- insert_account --
-- Create a tenant; the name is unique.
INSERT INTO accounts (name) VALUES (%(name)s)
RETURNING id, public_id, name, created_at;

-- get_account_by_name --
-- Look an account up by its unique name (CLI commands).
SELECT id, public_id, name, created_at FROM accounts WHERE name = %(name)s;

-- insert_api_key --
-- Store a new key: only its prefix (for listing and revoking) and its SHA-256 hash.
INSERT INTO api_keys (account_id, prefix, key_hash)
VALUES (%(account_id)s, %(prefix)s, %(key_hash)s)
RETURNING prefix, created_at, revoked_at;

-- find_account_by_key_hash --
-- Authenticate a request: the account of a known, unrevoked key.
SELECT a.id, a.public_id, a.name, a.created_at
FROM api_keys k JOIN accounts a ON a.id = k.account_id
WHERE k.key_hash = %(key_hash)s AND k.revoked_at IS NULL;

-- list_api_keys --
-- An account's keys, newest first; prefixes only.
SELECT prefix, created_at, revoked_at FROM api_keys
WHERE account_id = %(account_id)s
ORDER BY created_at DESC, id DESC;

-- revoke_api_key --
-- Revoke the key with this prefix; revoking twice keeps the first revocation time.
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE prefix = %(prefix)s
RETURNING prefix, created_at, revoked_at;

-- list_accounts --
-- Every tenant, by name (CLI reports over all accounts).
SELECT id, public_id, name, created_at FROM accounts ORDER BY name;
