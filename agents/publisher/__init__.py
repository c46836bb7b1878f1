"""The publisher engine: platform adapters, the pure job state machine, the retry and reconcile
policy, token encryption and rate-limit buckets. Plain async code, testable without Ray; the
runtime's publisher actor is a thin shell around :mod:`agents.publisher.loop`-style callers."""
