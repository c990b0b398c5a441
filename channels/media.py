"""Downloads the photos, audios, videos and documents that citizens send.

Twilio passes each attachment as `MediaUrlN` and `MediaContentTypeN`. The
file is fetched with the account's credentials, checked against the content
types and sizes that WhatsApp itself accepts, and saved in the media folder.
A rejected file still appears in the metadata, with the reason.
"""

import asyncio
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import aiohttp
from yarl import URL

from channels.http_client import HttpSessionHolder

logger = logging.getLogger(__name__)

MiB = 1024 * 1024

REJECTED_UNSUPPORTED_TYPE = "unsupported_type"
REJECTED_TOO_LARGE = "too_large"
REJECTED_DOWNLOAD_FAILED = "download_failed"
REJECTED_UNTRUSTED_URL = "untrusted_url"


@dataclass(frozen=True)
class MediaKind:
    """A content type that the channel accepts, with its limits."""

    extension: str
    max_bytes: int


_IMAGE = 5 * MiB
_AUDIO_VIDEO = 16 * MiB
_DOCUMENT = 100 * MiB
# Stickers: WhatsApp allows 100 KB static and 500 KB animated.
_STICKER = 500 * 1024

# WhatsApp's own types and limits for media (WhatsApp Business Platform, as
# of 2025): images 5 MB, audio and video 16 MB, documents 100 MB.
ALLOWED_MEDIA: Dict[str, MediaKind] = {
    "image/jpeg": MediaKind(".jpg", _IMAGE),
    "image/png": MediaKind(".png", _IMAGE),
    "image/webp": MediaKind(".webp", _STICKER),
    "audio/ogg": MediaKind(".ogg", _AUDIO_VIDEO),
    "audio/mpeg": MediaKind(".mp3", _AUDIO_VIDEO),
    "audio/aac": MediaKind(".aac", _AUDIO_VIDEO),
    "audio/amr": MediaKind(".amr", _AUDIO_VIDEO),
    "audio/mp4": MediaKind(".m4a", _AUDIO_VIDEO),
    "video/mp4": MediaKind(".mp4", _AUDIO_VIDEO),
    "video/3gpp": MediaKind(".3gp", _AUDIO_VIDEO),
    "application/pdf": MediaKind(".pdf", _DOCUMENT),
    "text/plain": MediaKind(".txt", _DOCUMENT),
    "text/vcard": MediaKind(".vcf", _DOCUMENT),
    "text/x-vcard": MediaKind(".vcf", _DOCUMENT),
    "application/msword": MediaKind(".doc", _DOCUMENT),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        MediaKind(".docx", _DOCUMENT)
    ),
    "application/vnd.ms-excel": MediaKind(".xls", _DOCUMENT),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        MediaKind(".xlsx", _DOCUMENT)
    ),
    "application/vnd.ms-powerpoint": MediaKind(".ppt", _DOCUMENT),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        MediaKind(".pptx", _DOCUMENT)
    ),
}

# Spanish reply for each rejection reason.
REJECTION_REPLIES: Dict[str, str] = {
    REJECTED_UNSUPPORTED_TYPE: (
        "No puedo abrir ese tipo de archivo. Puedes mandarme fotos (JPG o PNG), "
        "videos, audios o documentos PDF."
    ),
    REJECTED_TOO_LARGE: (
        "Tu archivo es demasiado pesado y no lo pude recibir. Las fotos pueden "
        "pesar hasta 5 MB; los audios y videos, hasta 16 MB, y los documentos, "
        "hasta 100 MB."
    ),
    REJECTED_DOWNLOAD_FAILED: (
        "No pude descargar tu archivo. ¿Me lo mandas otra vez, por favor?"
    ),
    REJECTED_UNTRUSTED_URL: (
        "No pude descargar tu archivo. ¿Me lo mandas otra vez, por favor?"
    ),
}

_CHUNK_BYTES = 256 * 1024
_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9]")


@dataclass
class MediaItem:
    """One attachment of an incoming message, as the actions receive it."""

    url: str
    content_type: str
    path: Optional[str] = None
    size: Optional[int] = None
    rejected: Optional[str] = None

    def as_metadata(self) -> Dict[str, Any]:
        """Return the item in the metadata shape the actions read."""
        return {
            "url": self.url,
            "content_type": self.content_type,
            "path": self.path,
            "size": self.size,
            "rejected": self.rejected,
        }


def base_content_type(content_type: Optional[str]) -> str:
    """Return the content type without parameters, in lower case.

    WhatsApp voice notes arrive as `audio/ogg; codecs=opus`, for example.
    """
    return (content_type or "").split(";")[0].strip().lower()


def rejection_replies(items: Iterable[MediaItem]) -> List[str]:
    """Return the Spanish replies for the rejected items, one per reason."""
    replies: List[str] = []
    for item in items:
        reply = REJECTION_REPLIES.get(item.rejected or "")
        if reply and reply not in replies:
            replies.append(reply)
    return replies


class MediaDownloader:
    """Fetches attachments with Twilio basic auth into the media folder.

    Credentials go only to the Twilio API's own origin (and to the configured
    API base URL, which tests point at a local fake), so that a forged media
    URL cannot make the server hand them to another host.
    """

    def __init__(
        self,
        sessions: HttpSessionHolder,
        account_sid: str,
        auth_token: str,
        api_base_url: str,
        media_dir: Path,
        timeout_seconds: float = 120.0,
    ) -> None:
        self._sessions = sessions
        self._auth = aiohttp.BasicAuth(account_sid, auth_token)
        self._trusted_origins = {
            URL("https://api.twilio.com").origin(),
            URL(api_base_url).origin(),
        }
        self._media_dir = media_dir
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, sock_read=30)

    async def fetch_all(
        self, message_sid: str, references: List[Dict[str, str]]
    ) -> List[MediaItem]:
        """Fetch every attachment of a message, concurrently.

        Args:
            message_sid: The message's SID, used in the file names.
            references: `{"url": ..., "content_type": ...}` in Twilio's order.

        Returns:
            One item per reference, in the same order.
        """
        return list(
            await asyncio.gather(
                *(
                    self.fetch(message_sid, index, ref["url"], ref["content_type"])
                    for index, ref in enumerate(references)
                )
            )
        )

    async def fetch(
        self, message_sid: str, index: int, url: str, content_type: str
    ) -> MediaItem:
        """Fetch one attachment, or return it marked with why it was rejected."""
        item = MediaItem(url=url, content_type=content_type)
        kind = ALLOWED_MEDIA.get(base_content_type(content_type))
        if kind is None:
            item.rejected = REJECTED_UNSUPPORTED_TYPE
            logger.info(
                "Rejected media %d of %s: unsupported type %s",
                index,
                message_sid,
                content_type,
            )
            return item
        if not self._is_trusted(url):
            item.rejected = REJECTED_UNTRUSTED_URL
            logger.warning(
                "Rejected media %d of %s: URL host is not Twilio's", index, message_sid
            )
            return item

        safe_sid = _UNSAFE_FILENAME_CHARS.sub("", message_sid) or "unknown"
        target = self._media_dir / f"{safe_sid}-{index}{kind.extension}"
        try:
            await self._download(item, kind, target)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            item.rejected = REJECTED_DOWNLOAD_FAILED
            logger.error(
                "Download of media %d of %s failed: %s",
                index,
                message_sid,
                error.__class__.__name__,
            )
        return item

    def _is_trusted(self, url: str) -> bool:
        try:
            return URL(url).origin() in self._trusted_origins
        except ValueError:
            return False

    async def _download(self, item: MediaItem, kind: MediaKind, target: Path) -> None:
        session = self._sessions.get()
        async with session.get(
            item.url, auth=self._auth, timeout=self._timeout
        ) as response:
            if response.status != 200:
                item.rejected = REJECTED_DOWNLOAD_FAILED
                logger.error(
                    "Download of %s failed with HTTP %d", target.name, response.status
                )
                return
            declared = response.content_length
            if declared is not None and declared > kind.max_bytes:
                item.rejected = REJECTED_TOO_LARGE
                item.size = declared
                logger.info(
                    "Rejected %s: %d bytes, limit %d",
                    target.name,
                    declared,
                    kind.max_bytes,
                )
                return
            size = await self._save(response, kind.max_bytes, target)

        if size is None:
            item.rejected = REJECTED_TOO_LARGE
            logger.info("Rejected %s: over %d bytes", target.name, kind.max_bytes)
            return
        item.path = str(target.resolve())
        item.size = size
        logger.debug("Saved media %s (%d bytes)", target.name, size)

    async def _save(
        self, response: aiohttp.ClientResponse, max_bytes: int, target: Path
    ) -> Optional[int]:
        # Returns the size, or None when the body exceeds max_bytes; a partial
        # file is never left behind.
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        handle = await asyncio.to_thread(open, partial, "wb")
        size = 0
        completed = False
        try:
            async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    return None
                await asyncio.to_thread(handle.write, chunk)
            completed = True
        finally:
            await asyncio.to_thread(handle.close)
            if completed:
                await asyncio.to_thread(os.replace, partial, target)
            else:
                await asyncio.to_thread(partial.unlink, missing_ok=True)
        return size
