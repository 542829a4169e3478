"""Storage: the records store (``storage.records``: transcripts and analytics rows, sealed
field by field) and the object store (``storage.objects``: sealed recordings). Both keep only
what the layer above sealed; neither ever sees plaintext or keys."""

__all__: list[str] = []
