"""Deciding what to do: the Policy interface, its implementations, and the checks a decision must pass."""
