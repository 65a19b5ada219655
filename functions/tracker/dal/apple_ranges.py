"""The stored copy of Apple's ranges: one S3 object holding ``AppleRanges.to_compact()``.

``logic.ports.AppleRangesStore`` for the refresher (PutObject) and ``AppleRangesReader`` for the
ingest path (GetObject). The client is built on first use, not when the adapter is: the ingest
function builds this adapter at cold start but reads the object only on its first bare-agent event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tracker.domain.engagement import compact
from tracker.domain.errors import ReferenceDataError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

# The ingest path reads while a batch waits: short timeouts and one retry, then the snapshot.
READ_CLIENT_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 2}
)
# The compact form of a full list is about a megabyte; anything far larger is not ours.
MAX_STORED_BYTES = compact.MAX_PAYLOAD_BYTES // 2
FORMAT = str(compact.VERSION)
# Object metadata (x-amz-meta-*): what `aws s3api head-object` shows an operator.
META_REFRESHED_AT = "refreshed-at"
META_PREFIXES = "prefixes"
META_FORMAT = "format"
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3AppleRanges:
    """``AppleRangesStore`` on ``s3://bucket/key``."""

    def __init__(self, client: Callable[[], S3Client], bucket: str, key: str) -> None:
        self._make_client = client
        self._client: S3Client | None = None
        self.bucket = bucket
        self.key = key

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def _s3(self) -> S3Client:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def read(self) -> bytes | None:
        try:
            response = self._s3().get_object(Bucket=self.bucket, Key=self.key)
            if response["ContentLength"] > MAX_STORED_BYTES:
                raise ReferenceDataError(
                    f"{self.location} has {response['ContentLength']} bytes, more than {MAX_STORED_BYTES}"
                )
            with response["Body"] as body:
                return body.read()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _MISSING:
                return None
            hint = (
                " (S3 also answers AccessDenied for a missing object to a role without s3:ListBucket)"
                if code == "AccessDenied"
                else ""
            )
            raise ReferenceDataError(f"{self.location}: {code or error}{hint}") from error
        except BotoCoreError as error:
            raise ReferenceDataError(f"{self.location}: {error}") from error

    def write(self, blob: bytes, *, refreshed_at: datetime, prefixes: int) -> None:
        try:
            self._s3().put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=blob,
                ContentType="application/gzip",
                ChecksumAlgorithm="SHA256",
                Metadata={
                    META_REFRESHED_AT: refreshed_at.isoformat(),
                    META_PREFIXES: str(prefixes),
                    META_FORMAT: FORMAT,
                },
            )
        except (ClientError, BotoCoreError) as error:
            raise ReferenceDataError(f"{self.location} not written: {error}") from error
