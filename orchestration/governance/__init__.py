"""Privacy and governance: PII classification checks, the retention purge, erasure and access requests."""
