-- lock_identifiers --
-- Serialize writers on normalized identifiers: transaction-scoped advisory locks, taken in
-- the order of the (pre-sorted) keys so that two writers never wait on each other in a cycle.
SELECT pg_advisory_xact_lock(k) FROM unnest(%(keys)s::bigint[]) AS k;

-- find_holders --
-- Live profiles of the account holding any of the given (kind, normalized value) pairs.
SELECT i.profile_id, i.kind, i.value_norm AS norm
FROM profile_identifiers i
JOIN unnest(%(kinds)s::text[], %(norms)s::text[]) AS w(kind, norm)
  ON i.kind = w.kind AND i.value_norm = w.norm
WHERE i.account_id = %(account_id)s
ORDER BY i.profile_id;

-- insert_identifier --
-- Attach an identifier to a profile.
INSERT INTO profile_identifiers (account_id, profile_id, kind, value, value_norm, is_primary)
VALUES (%(account_id)s, %(profile_id)s, %(kind)s, %(value)s, %(value_norm)s, %(is_primary)s);
