"""callvault benchmark suite (``python -m bench`` from the repository root; see README.md)."""
