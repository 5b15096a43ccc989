-- insert_event --
-- Record something a customer did.
INSERT INTO events (account_id, profile_id, name, data)
VALUES (%(account_id)s, %(profile_id)s, %(name)s, %(data)s)
RETURNING id, name, data, profile_id AS customer, created_at;

-- list_events --
-- A customer's events, newest first, keyset-paginated on the id.
SELECT id, name, data, profile_id AS customer, created_at FROM events
WHERE account_id = %(account_id)s AND profile_id = %(profile_id)s
  AND (%(before)s::bigint IS NULL OR id < %(before)s)
ORDER BY id DESC
LIMIT %(limit)s;
