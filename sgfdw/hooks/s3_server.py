"""The registry's side of the S3 object handler: presigned URLs for its bucket.

Runs inside the registry's backends (SQL functions sgfdw.get_object_upload_urls and
sgfdw.get_object_download_urls), so that engines never hold S3 credentials: they get
URLs, each good for one object and one method until it expires. The store is named by
superuser-only settings of the registry (sgfdw.s3_endpoint, _bucket, _region,
_access_key, _url_expiry); the secret key is read from the file sgfdw.s3_secret_key_file
names, never a setting's value (a configuration reload logs those).

An object is stored under its id, as one part (its Parquet file): each object's list
of URLs has one URL.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Sequence
from urllib.parse import urlsplit

from minio import Minio
from minio.error import S3Error

from sgfdw import pg
from sgfdw.errors import FdwError, OptionError
from sgfdw.hooks.external_objects import check_object_ids

__all__ = ["S3Settings", "settings", "client", "get_object_upload_urls",
           "get_object_download_urls", "delete_objects", "list_objects"]


@dataclass(frozen=True)
class S3Settings:
    endpoint: str
    bucket: str
    region: str
    access_key: str
    secret_key: str = ""
    url_expiry: int = 3600

    def __repr__(self) -> str:  # never the secret key
        return f"S3Settings(endpoint={self.endpoint!r}, bucket={self.bucket!r})"


def _secret_key(path: str) -> str:
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().strip()
    except OSError as exc:
        raise FdwError(f"could not read the S3 secret key file named by "
                       f"sgfdw.s3_secret_key_file: {exc.strerror}", sqlstate="58030",
                       hint="The file must be readable by the server's operating system "
                            "user.") from None


def settings() -> S3Settings:
    """The registry's S3 settings (read as the function's owner: they are a superuser's)."""
    endpoint, bucket, region, access_key, key_file, expiry = pg.execute(
        "SELECT current_setting('sgfdw.s3_endpoint'), current_setting('sgfdw.s3_bucket'), "
        "current_setting('sgfdw.s3_region'), current_setting('sgfdw.s3_access_key'), "
        "current_setting('sgfdw.s3_secret_key_file'), "
        "current_setting('sgfdw.s3_url_expiry')::text::interval")[0]
    if not endpoint:
        raise FdwError("this server is not a registry: sgfdw.s3_endpoint is not set",
                       sqlstate="55000",
                       hint="Set sgfdw.s3_endpoint, sgfdw.s3_bucket, sgfdw.s3_access_key "
                            "and sgfdw.s3_secret_key_file on the registry.")
    return S3Settings(endpoint, bucket, region, access_key, _secret_key(key_file),
                      int(expiry.total_seconds()))


def client(config: S3Settings | None = None, s3_host: str | None = None) -> Minio:
    """A minio client for the registry's store; s3_host: the URL engines reach it by,
    when not the endpoint's (a presigned URL is signed for its host)."""
    config = config or settings()
    parts = urlsplit(s3_host or config.endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise OptionError(f"invalid S3 endpoint {s3_host or config.endpoint!r}",
                          hint="Write it as http://host:port or https://host:port.")
    # The region is given: minio would otherwise ask the service for it first.
    return Minio(parts.netloc, access_key=config.access_key or None,
                 secret_key=config.secret_key or None, secure=parts.scheme == "https",
                 region=config.region)


_buckets_made: set[tuple[str, str]] = set()


def _ensure_bucket(s3: Minio, config: S3Settings) -> None:
    if (config.endpoint, config.bucket) in _buckets_made:
        return
    try:
        if not s3.bucket_exists(config.bucket):
            s3.make_bucket(config.bucket)
    except S3Error as exc:
        raise FdwError(f'S3 bucket "{config.bucket}" cannot be used: {exc.message}',
                       sqlstate="58000") from None
    except Exception as exc:  # urllib3's connection errors
        raise _unreachable(config, exc) from None
    _buckets_made.add((config.endpoint, config.bucket))


def _unreachable(config: S3Settings, exc: BaseException) -> FdwError:
    return FdwError(f"S3 service {config.endpoint} cannot be reached",
                    sqlstate="08006", detail=f"{type(exc).__name__}: {exc}")


def _presigned(method: str, s3_host: str | None,
               object_ids: Sequence[str] | None) -> list[list[str]]:
    config = settings()
    ids = check_object_ids(object_ids)
    s3 = client(config, s3_host or None)
    if method == "PUT":
        _ensure_bucket(client(config), config)
    expiry = datetime.timedelta(seconds=config.url_expiry)
    return [[s3.get_presigned_url(method, config.bucket, object_id, expires=expiry)]
            for object_id in ids]


def get_object_upload_urls(s3_host: str | None, object_ids: Sequence[str]) -> list[list[str]]:
    """Per object, the presigned URLs (PUT) of its parts."""
    return _presigned("PUT", s3_host, object_ids)


def get_object_download_urls(s3_host: str | None,
                             object_ids: Sequence[str]) -> list[list[str]]:
    """Per object, the presigned URLs (GET) of its parts."""
    return _presigned("GET", s3_host, object_ids)


def delete_objects(s3: Minio, object_ids: Sequence[str]) -> None:
    from minio.deleteobjects import DeleteObject

    config = settings()
    errors: list[Any] = list(s3.remove_objects(
        config.bucket, [DeleteObject(object_id) for object_id in check_object_ids(object_ids)]))
    if errors:
        raise FdwError(f"could not delete object {errors[0].name} from S3: "
                       f"{errors[0].message}", sqlstate="58000")


def list_objects(s3: Minio) -> list[str]:
    return [entry.object_name for entry in s3.list_objects(settings().bucket)]
