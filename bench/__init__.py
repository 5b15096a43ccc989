"""`make bench`: load runs of the service against a minimal floor and pgbench (never in tests)."""
