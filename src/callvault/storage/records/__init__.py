"""The records store: transcripts and analytics rows, sealed field by field.

The layer above seals; this layer stores. It takes already-sealed bytes and blind indexes
(never plaintext, never keys), keeps the few columns queries need in clear, and scopes every
statement to one tenant::

    from callvault.storage.records import RecordStore, NewTranscript, run_migrations
    engine = create_records_engine(embedded_url(home))      # or a PostgreSQL URL
    run_migrations(engine)
    store = RecordStore(engine)
    rid = store.add_transcript("acme", NewTranscript(call_id="c1", caller_index=idx, sealed=blob))

Backends: SQLite (embedded default, a 0600 file in the home directory) or PostgreSQL through
psycopg 3, reachable only with ``sslmode=verify-full`` and TLS 1.3 (``check_database_url``),
with row-level security isolating tenants inside the database. See docs/storage.md.
"""

from callvault.storage.records._claims import DEFAULT_LEASE, Lease, UploadClaims
from callvault.storage.records._engine import (
    RECORDS_DB_FILE,
    check_tls_session,
    create_records_engine,
    embedded_url,
)
from callvault.storage.records._errors import (
    InsecureDatabaseUrl,
    RecordExists,
    RecordNotFound,
    UploadClaimed,
    UploadClaimLost,
)
from callvault.storage.records._migrate import (
    current_revision,
    head_revision,
    run_migrations,
    schema_drift,
)
from callvault.storage.records._records import (
    MAX_SEALED_BYTES,
    AnalyticsRow,
    NewAnalytics,
    NewTranscript,
    Transcript,
    new_record_id,
)
from callvault.storage.records._rewrite import SealedTable
from callvault.storage.records._schema import BLIND_INDEX_SIZE, TENANT_SETTING, metadata
from callvault.storage.records._store import RecordStore
from callvault.storage.records._url import check_database_url

__all__ = [
    "BLIND_INDEX_SIZE",
    "DEFAULT_LEASE",
    "MAX_SEALED_BYTES",
    "RECORDS_DB_FILE",
    "TENANT_SETTING",
    "AnalyticsRow",
    "InsecureDatabaseUrl",
    "Lease",
    "NewAnalytics",
    "NewTranscript",
    "RecordExists",
    "RecordNotFound",
    "RecordStore",
    "SealedTable",
    "Transcript",
    "UploadClaimLost",
    "UploadClaimed",
    "UploadClaims",
    "check_database_url",
    "check_tls_session",
    "create_records_engine",
    "current_revision",
    "embedded_url",
    "head_revision",
    "metadata",
    "new_record_id",
    "run_migrations",
    "schema_drift",
]
