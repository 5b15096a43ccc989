-- lock_identifiers --
-- Serialize writers on normalized identifiers: transaction-scoped advisory locks, taken in
-- the order of the (pre-sorted) keys so that two writers never wait on each other in a cycle.
-- It also gives the rest of the write transaction generic plans: its statements look rows up
-- by ids and arrays, and planning the lookup anew cost more than running it.
SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
       (SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%(keys)s::bigint[]) AS k);
