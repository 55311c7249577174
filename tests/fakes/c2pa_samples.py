"""C2PA samples for tests. `sign_mp4` signs a video with a real C2PA manifest, offline: a throwaway CA and a leaf certificate
made with `cryptography` (EC P-256, ES256), and c2pa-python's Builder to embed the manifest.

The leaf has what c2pa-rs's certificate profile checks for a signing credential: v3, not a CA
(basicConstraints critical, cA false), keyUsage digitalSignature (critical), an extended key
usage of id-kp-emailProtection (one of the EKUs C2PA accepts), subject and authority key
identifiers, and an issuer other than itself (self-signed signing certificates are refused).
Nothing trusts the CA, so readers report `signingCredential.untrusted` while the signature and
the asset hashes validate ("Valid").
"""

from __future__ import annotations

import datetime
import functools
import struct
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from workers.media.provenance_c2pa import C2PA_BMFF_UUID

SIGNER_NAME = "Fake Vendor C2PA signer"
ISSUER_ORG = "Screentest test CA"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ISSUER_ORG),
        ]
    )


def _key_usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@functools.cache
def credentials() -> tuple[bytes, bytes]:
    """(PEM chain leaf+CA, PEM PKCS#8 private key of the leaf), made once per process."""
    now = datetime.datetime.now(datetime.UTC)
    valid = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Screentest test root"))
        .issuer_name(_name("Screentest test root"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(SIGNER_NAME))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    private_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain, private_key


def manifest_definition(
    *, title: str = "a fox in the snow", generator: str = "FakeVendor Video", actions: list[dict] | None = None
) -> dict:
    return {
        "claim_generator_info": [{"name": generator, "version": "2.1"}],
        "title": title,
        "format": "video/mp4",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": actions or [{"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA}]
                },
            }
        ],
    }


def sign_mp4(source: Path, dest: Path, manifest: dict | None = None) -> Path:
    chain, private_key = credentials()
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(alg=b"es256", sign_cert=chain, private_key=private_key, ta_url=None)
    )
    with (
        signer,
        c2pa.Builder(manifest or manifest_definition()) as builder,
        open(source, "rb") as src,
        open(dest, "w+b") as dst,
    ):
        builder.sign(signer, "video/mp4", src, dst)
    return dest


def insert_garbage_c2pa_box(source: Path, dest: Path) -> Path:
    """A copy of an MP4 with a top-level C2PA `uuid` box appended whose JUMBF payload is junk:
    still a playable video (chunk offsets are unchanged), but its "manifest" cannot be parsed."""
    data = source.read_bytes()
    payload = b"\x00\x00\x00\x00c2pa\x00" + b"\x00" * 4 + struct.pack(">I", 64) + b"jumb" + b"\xff" * 200
    box = struct.pack(">I", 8 + 16 + len(payload)) + b"uuid" + C2PA_BMFF_UUID + payload
    dest.write_bytes(data + box)
    return dest
