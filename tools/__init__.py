"""Developer tooling of the mini repository (standard library only)."""
