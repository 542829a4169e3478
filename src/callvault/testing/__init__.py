"""Test support. NOT for production use.

``callvault.testing`` builds sealed objects deterministically from injected keys, salts and
nonces, so format vectors (tests/vectors/) replay byte for byte. Anything sealed with it is
only as secret as its inputs: never use it for real data. ``moto_server`` starts moto's
AWS emulation on 127.0.0.1 for the AWS KMS tests and benchmark; ``wait_for_line`` waits
for a server subprocess's banner.
"""

from callvault.testing._moto import MotoUnavailable, moto_available, moto_server
from callvault.testing._processes import wait_for_line
from callvault.testing._vectors import (
    encrypt_body,
    local_kms_wrap,
    local_kms_wrap_aad,
    managed_key_aad,
    managed_key_name,
    seal_v1,
    subject_key_id,
    subject_wrap,
)

__all__ = [
    "MotoUnavailable",
    "encrypt_body",
    "local_kms_wrap",
    "local_kms_wrap_aad",
    "managed_key_aad",
    "managed_key_name",
    "moto_available",
    "moto_server",
    "seal_v1",
    "subject_key_id",
    "subject_wrap",
    "wait_for_line",
]
