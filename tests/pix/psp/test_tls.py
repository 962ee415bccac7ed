"""mTLS: the sandbox behind TLS with a client CA, and clients with and without a certificate."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from laura.pix.psp import EfiClient, PspUnavailable, new_txid
from laura.pix.psp.tls import build_ssl_context
from laura.pix.sandbox import BackgroundServer, TlsFiles, create_sandbox_app

from ..sandbox.fixtures import CLIENT_ID, CLIENT_SECRET, FAST_CONFIG

KEY = "pix@laura.example"
P12_PASSWORD = "p12-secret"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(
    subject: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    server: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer[0].subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        ).add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        signer = key
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True
        ).add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        signer = issuer[1]
    return builder.sign(signer, hashes.SHA256()), key


def _write(
    folder: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class Pki:
    def __init__(self, folder: Path) -> None:
        ca = _issue("Laura Test CA", None)
        self.ca_cert, _ = _write(folder, "ca", *ca)
        self.server_cert, self.server_key = _write(folder, "server", *_issue("127.0.0.1", ca, server=True))
        client_cert, client_key = _issue("laura-psp-client", ca)
        self.client_cert, self.client_key = _write(folder, "client", client_cert, client_key)
        self.client_combined = folder / "client-combined.pem"
        self.client_combined.write_bytes(self.client_key.read_bytes() + self.client_cert.read_bytes())
        self.client_p12 = folder / "client.p12"
        self.client_p12.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"laura",
                client_key,
                client_cert,
                None,
                serialization.BestAvailableEncryption(P12_PASSWORD.encode()),
            )
        )
        rogue_ca = _issue("Rogue CA", None)
        self.rogue_cert, self.rogue_key = _write(folder, "rogue", *_issue("intruder", rogue_ca))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def mtls_url(pki: Pki) -> Iterator[str]:
    tls = TlsFiles(cert=str(pki.server_cert), key=str(pki.server_key), client_ca=str(pki.ca_cert))
    with BackgroundServer(create_sandbox_app(FAST_CONFIG), tls=tls) as server:
        yield server.url


def _client(url: str, pki: Pki, **options: object) -> EfiClient:
    return EfiClient(url, CLIENT_ID, CLIENT_SECRET, verify=str(pki.ca_cert), retries=0, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("form", ["pair", "combined", "p12"])
async def test_client_with_a_certificate_is_served(mtls_url: str, pki: Pki, form: str) -> None:
    options: dict[str, object] = {
        "pair": {"cert": (str(pki.client_cert), str(pki.client_key))},
        "combined": {"cert": str(pki.client_combined)},
        "p12": {"cert": str(pki.client_p12), "cert_password": P12_PASSWORD},
    }[form]
    async with _client(mtls_url, pki, **options) as efi:
        txid = new_txid()
        created = await efi.create_charge(txid, Decimal("12.34"), KEY, 600)
        fetched = await efi.get_charge(txid)

    assert mtls_url.startswith("https://")
    assert fetched == created


async def test_client_without_a_certificate_is_refused(mtls_url: str, pki: Pki) -> None:
    async with _client(mtls_url, pki) as efi:
        with pytest.raises(PspUnavailable) as caught:
            await efi.get_charge(new_txid())

    assert isinstance(caught.value.__cause__, httpx.TransportError)


async def test_client_with_a_certificate_from_another_ca_is_refused(mtls_url: str, pki: Pki) -> None:
    async with _client(mtls_url, pki, cert=(str(pki.rogue_cert), str(pki.rogue_key))) as efi:
        with pytest.raises(PspUnavailable) as caught:
            await efi.get_charge(new_txid())

    assert isinstance(caught.value.__cause__, httpx.TransportError)


async def test_client_that_does_not_trust_the_server_is_refused(mtls_url: str, pki: Pki) -> None:
    async with EfiClient(mtls_url, CLIENT_ID, CLIENT_SECRET, cert=str(pki.client_combined), retries=0) as efi:
        with pytest.raises(PspUnavailable) as caught:
            await efi.get_charge(new_txid())

    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_clients_share_one_context_until_the_certificate_is_replaced(
    mtls_url: str, pki: Pki, tmp_path: Path
) -> None:
    cert, key = tmp_path / "client.crt", tmp_path / "client.key"
    cert.write_bytes(pki.client_cert.read_bytes())
    key.write_bytes(pki.client_key.read_bytes())
    pair = (str(cert), str(key))
    first, again = (build_ssl_context(str(pki.ca_cert), pair) for _ in range(2))
    async with _client(mtls_url, pki, cert=pair) as efi:
        await efi.create_charge(new_txid(), Decimal("1.00"), KEY, 600)

    # renewed in place (here by a certificate the PSP does not trust, to see that it is the one presented)
    cert.write_bytes(pki.rogue_cert.read_bytes())
    key.write_bytes(pki.rogue_key.read_bytes())
    later = cert.stat().st_mtime_ns + 1_000_000_000
    os.utime(cert, ns=(later, later))
    async with _client(mtls_url, pki, cert=pair) as efi:
        with pytest.raises(PspUnavailable):
            await efi.get_charge(new_txid())

    assert first is again
    assert build_ssl_context(str(pki.ca_cert), pair) is not first
