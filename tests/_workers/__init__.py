"""Scripts the distribution tests start as separate processes (not tests themselves)."""
