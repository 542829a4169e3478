"""The records schema's alembic scripts (``env.py`` and ``versions/``), run by
``callvault.storage.records.run_migrations``; not a public module."""
