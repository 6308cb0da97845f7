"""Action providers: one module per (category, owner, provider, version), found by entry point."""
