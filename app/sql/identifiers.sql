-- lock_identifiers --
-- Serialize writers on normalized identifiers: transaction-scoped advisory locks, taken in
-- the order of the (pre-sorted) keys so that two writers never wait on each other in a cycle.
SELECT pg_advisory_xact_lock(k) FROM unnest(%(keys)s::bigint[]) AS k;
