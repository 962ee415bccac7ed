"""The client side of mTLS: an `ssl.SSLContext` carrying our certificate, from PEM files or a PKCS#12 bundle.

Efí hands out a `.p12` per application; `ssl` only loads PEM files, so a P12 is converted into a
temporary PEM whose private key is encrypted with a throwaway password and deleted right after loading.
"""

from __future__ import annotations

import functools
import os
import secrets
import ssl
import tempfile
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    pkcs12,
)

ClientCert = str | Path | tuple[str | Path, str | Path]

P12_SUFFIXES = (".p12", ".pfx")


def build_ssl_context(
    verify: ssl.SSLContext | str | bool,
    cert: ClientCert | None,
    cert_password: str | None = None,
) -> ssl.SSLContext:
    """What to pass as httpx's `verify`: the caller's choice, plus our client certificate when given.

    `cert` is a PEM file holding certificate and key, a `(cert, key)` pair of PEM files, or a
    `.p12`/`.pfx` bundle (opened with `cert_password`).

    Built from files, a context is made once per process for each configuration and shared by the clients
    made with it: loading the CA bundle costs about 20 ms of CPU, which every job's own client paid
    (a ride's charge, a payout's send). The files' modification times are part of the key, so a renewed
    certificate is loaded by the next client made after it is replaced.
    """
    if isinstance(verify, ssl.SSLContext):
        if cert is not None:
            _load_cert(verify, cert, cert_password)
        return verify
    files = cert if isinstance(cert, tuple) else (cert,)
    stamps = tuple(_mtime(f) for f in (*files, verify) if isinstance(f, str | Path))
    return _shared_context(verify, cert, cert_password, stamps)


def _mtime(path: str | Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


@functools.lru_cache(maxsize=16)
def _shared_context(
    verify: str | bool, cert: ClientCert | None, cert_password: str | None, stamps: tuple[int, ...]
) -> ssl.SSLContext:
    """A fresh context for the configuration; `stamps` (the files' mtimes) only make it part of the key."""
    context = httpx.create_ssl_context(verify=verify)
    if cert is not None:
        _load_cert(context, cert, cert_password)
    return context


def _load_cert(context: ssl.SSLContext, cert: ClientCert, cert_password: str | None) -> None:
    if isinstance(cert, tuple):
        context.load_cert_chain(str(cert[0]), str(cert[1]), password=cert_password)
    elif str(cert).lower().endswith(P12_SUFFIXES):
        _load_p12(context, Path(cert), cert_password)
    else:
        context.load_cert_chain(str(cert), password=cert_password)


def _load_p12(context: ssl.SSLContext, path: Path, password: str | None) -> None:
    key, certificate, chain = pkcs12.load_key_and_certificates(
        path.read_bytes(), password.encode() if password else None
    )
    if key is None or certificate is None:
        raise ValueError(f"{path} holds no private key and certificate")
    throwaway = secrets.token_urlsafe(24)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(throwaway.encode()))
    for item in (certificate, *chain):
        pem += item.public_bytes(Encoding.PEM)
    with tempfile.TemporaryDirectory(prefix="laura-psp-") as folder:
        pem_path = os.path.join(folder, "client.pem")
        descriptor = os.open(pem_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        context.load_cert_chain(pem_path, password=throwaway)
