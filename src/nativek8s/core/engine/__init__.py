"""The deploy engine: ordered idempotent steps, per-lab state and lock, progress."""
