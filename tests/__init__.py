"""The template's own tests: hooks, render and build tiers (see README.md)."""
