"""An independent kiosk signer for the tests: signs requests with the pyauth
http-message-signatures library (RFC 9421), not with the project's Rust code.

Reads a JSON list of requests on stdin, writes a JSON list of header sets on stdout.
Each request: {"seed": hex of the Ed25519 seed, "keyid", "method", "url", "body": text
or null, "order": parameter names in the order wanted (created, expires, nonce, alg,
keyid, tag), "components": covered component ids, "values": overrides of parameter
values (e.g. {"alg": "rsa-pss-sha512"} or {"expires": 123}), "label"}.

Signatures in the library's own order come from its public `sign`; any other order from
its signature-base builder with an ordered parameter dict (the library then re-parses the
result and checks it rebuilds the same base before setting the headers).
"""
import base64
import json
import secrets
import sys
import time
from collections import OrderedDict

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSigner,
    MappingKeyResolver,
    PreparedSignature,
    algorithms,
)
from http_message_signatures._components import _parse_component_ids


def sign(spec):
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(spec["seed"]))
    keyid = spec["keyid"]
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={keyid: key}),
    )
    body = spec.get("body")
    headers = dict(spec.get("headers") or {})
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    req = requests.Request(
        spec["method"],
        spec["url"],
        data=body.encode() if body is not None else None,
        headers=headers,
    ).prepare()
    if body is not None:
        req.headers["Content-Digest"] = ContentDigest.create(req.body)
    now = int(time.time())
    values = {
        "created": now,
        "expires": now + 60,
        "nonce": secrets.token_urlsafe(16),
        "alg": "ed25519",
        "keyid": keyid,
        "tag": "sspr-kiosk",
    }
    values.update(spec.get("values") or {})
    params = OrderedDict((name, values[name]) for name in spec["order"])
    nodes = _parse_component_ids(tuple(spec["components"]))
    base, params_node, _ = signer._build_signature_base(
        req, covered_component_ids=nodes, signature_params=params
    )
    label = spec.get("label", "sig1")
    prepared = PreparedSignature(
        base.encode(), str(params_node), label, algorithms.ED25519.algorithm_id
    )
    signature = algorithms.ED25519(private_key=key).sign(prepared.signature_base)
    if params.get("alg", "ed25519") == "ed25519":
        signer.apply(req, prepared, signature)
    else:
        # The library won't apply a signature whose alg isn't its key's (rightly): a
        # signer that lies about it is what the server must refuse, so set the fields
        # as the library would have.
        req.headers["Signature-Input"] = f"{label}={params_node}"
        req.headers["Signature"] = f"{label}=:{base64.b64encode(signature).decode()}:"
    return {k: v for k, v in req.headers.items() if k.lower() != "content-length"}


def main():
    specs = json.load(sys.stdin)
    json.dump([sign(s) for s in specs], sys.stdout)


if __name__ == "__main__":
    main()
