"""Use cases: one function per API operation, each one transaction."""
