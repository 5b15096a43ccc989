-- insert_event --
-- Record something a customer did.
INSERT INTO events (account_id, profile_id, name, data)
VALUES (%(account_id)s, %(profile_id)s, %(name)s, %(data)s)
RETURNING id, name, data, profile_id AS customer, created_at;

-- list_events --
-- A customer's events, newest first, keyset-paginated on (created_at, id): ids are random.
SELECT id, name, data, profile_id AS customer, created_at FROM events
WHERE account_id = %(account_id)s AND profile_id = %(profile_id)s
  AND (%(before_at)s::timestamptz IS NULL
       OR (created_at, id) < (%(before_at)s::timestamptz, %(before_id)s::bigint))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s;
