"""Photo storage, content-addressed: a photo's key is its SHA-256, so a resend stores nothing new.

``put`` returns only once the bytes are stored and read back as the same checksum; ``get`` checks the checksum
again. A store that cannot be reached raises ``StoreUnavailable`` (the API answers 503 with Retry-After).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Protocol

import urllib3
from minio import Minio
from minio.error import S3Error

from .config import Settings


class StoreUnavailable(RuntimeError):
    """The store cannot be reached or did not keep the bytes; try again later."""


class PhotoMissing(KeyError):
    pass


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def photo_key(digest: str) -> str:
    return f"photos/{digest[:2]}/{digest}"


class PhotoStore(Protocol):
    def put(self, data: bytes, content_type: str) -> str:
        """Store ``data``; returns its SHA-256 hex digest once it is safely stored."""

    def get(self, digest: str) -> bytes: ...

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the store answers."""


class LocalStore:
    """Photos in a folder (embedded mode). Written to a temporary file, flushed, then renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        return self.root / photo_key(digest)

    def put(self, data: bytes, content_type: str) -> str:
        digest = sha256(data)
        path = self._path(digest)
        try:
            if path.is_file() and sha256(path.read_bytes()) == digest:
                return digest
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp.name, path)
        except OSError as e:
            raise StoreUnavailable(f"cannot write photo: {e}") from e
        return digest

    def get(self, digest: str) -> bytes:
        try:
            data = self._path(digest).read_bytes()
        except FileNotFoundError:
            raise PhotoMissing(digest) from None
        except OSError as e:
            raise StoreUnavailable(f"cannot read photo: {e}") from e
        if sha256(data) != digest:
            raise StoreUnavailable(f"photo {digest} is corrupt in the store")
        return data

    def ping(self) -> None:
        if not os.access(self.root if self.root.exists() else self.root.parent, os.W_OK):
            raise StoreUnavailable(f"{self.root} is not writable")


class S3Store:
    """Photos in an S3 bucket (MinIO, SeaweedFS, AWS). The bucket is created when missing."""

    def __init__(
        self, endpoint: str, access_key: str, secret_key: str, bucket: str, secure: bool, timeout: float
    ):
        # Short timeouts and few retries: a store that is down must become a quick 503, not a hung request.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(timeout, 3.0), read=timeout),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
            maxsize=20,
        )
        self.client = Minio(endpoint, access_key, secret_key, secure=secure, http_client=http)
        quick = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1.0, read=2.0), retries=False, maxsize=2)
        self.probe = Minio(endpoint, access_key, secret_key, secure=secure, http_client=quick)
        self.bucket = bucket
        self._bucket_ready = False

    def _ensure_bucket(self) -> None:
        if not self._bucket_ready:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as e:
                    if e.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            self._bucket_ready = True

    def put(self, data: bytes, content_type: str) -> str:
        digest = sha256(data)
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        try:
            self._ensure_bucket()
            result = self.client.put_object(
                self.bucket,
                photo_key(digest),
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata={"sha256": digest},
            )
            # A single-part upload's ETag is the MD5 of what the server stored: proof the bytes arrived whole.
            if (result.etag or "").strip('"') != md5:
                raise StoreUnavailable(f"store returned ETag {result.etag} for a photo with MD5 {md5}")
        except (S3Error, urllib3.exceptions.HTTPError, OSError) as e:
            raise StoreUnavailable(f"object store: {e}") from e
        return digest

    def get(self, digest: str) -> bytes:
        try:
            response = self.client.get_object(self.bucket, photo_key(digest))
            try:
                data = response.read()
            finally:
                response.close()
                response.release_conn()
        except S3Error as e:
            if e.code == "NoSuchKey":
                raise PhotoMissing(digest) from None
            raise StoreUnavailable(f"object store: {e}") from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise StoreUnavailable(f"object store: {e}") from e
        if sha256(data) != digest:
            raise StoreUnavailable(f"photo {digest} came back corrupt from the store")
        return data

    def ping(self) -> None:
        """Ask the server now, with a short timeout and no retries (readiness must not trust the past)."""
        try:
            self.probe.bucket_exists(self.bucket)
        except (S3Error, urllib3.exceptions.HTTPError, OSError) as e:
            raise StoreUnavailable(f"object store: {str(e)[:200]}") from e


def make_store(settings: Settings) -> PhotoStore:
    if settings.s3_endpoint:
        endpoint, secure = settings.s3_host_secure
        return S3Store(
            endpoint,
            settings.s3_access_key,
            settings.s3_secret_key.get_secret_value(),
            settings.s3_bucket,
            secure,
            settings.s3_timeout_s,
        )
    return LocalStore(settings.photo_dir)
