"""Schemathesis hook: signs every kiosk API request as an enrolled kiosk does (RFC 9421,
Ed25519, with the pyauth http-message-signatures library), after its body is final.

The kiosk's key and id come from the test (SSPR_ST_SEED: hex Ed25519 seed, SSPR_ST_KEYID).
Requests to the unsigned routes (/v1/approval, /v1/my, /v1/kiosks/enroll, health) are
signed too: the server ignores a signature where it needs none.
"""
import datetime
import os
import secrets

import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

KEY_ID = os.environ["SSPR_ST_KEYID"]
_signer = HTTPMessageSigner(
    signature_algorithm=algorithms.ED25519,
    key_resolver=MappingKeyResolver(
        public_keys={},
        private_keys={
            KEY_ID: Ed25519PrivateKey.from_private_bytes(
                bytes.fromhex(os.environ["SSPR_ST_SEED"])
            )
        },
    ),
)


class KioskSignature(requests.auth.AuthBase):
    """requests calls this last, with the final request (URL, headers, body bytes)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body.encode() if isinstance(r.body, str) else r.body
        for h in ("Content-Digest", "Signature", "Signature-Input"):
            r.headers.pop(h, None)
        _signer.sign(
            r,
            key_id=KEY_ID,
            nonce=secrets.token_urlsafe(16),
            created=datetime.datetime.now(datetime.timezone.utc),
            include_alg=True,
            label="sig1",
            covered_component_ids=("@method", "@target-uri")
            + (("idempotency-key",) if "Idempotency-Key" in r.headers else ()),
            body=body if body else None,
        )
        return r


@schemathesis.hook
def before_call(ctx, case, kwargs):
    # `kwargs` by name, not **kwargs: the hook must change the transport's own arguments.
    kwargs["auth"] = KioskSignature()
