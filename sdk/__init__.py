"""The light half of aitrail: what developer tooling embeds (no chDB, nothing heavy)."""
