"""One aiohttp session per channel, opened inside the server's event loop."""

from typing import Optional

import aiohttp


class HttpSessionHolder:
    """Creates the shared `aiohttp.ClientSession` on first use.

    A session must be created inside the event loop that uses it, which
    exists only once the server runs, never when the channel is configured.
    """

    def __init__(self, max_connections: int = 100) -> None:
        self._session: Optional[aiohttp.ClientSession] = None
        self._max_connections = max_connections

    def get(self) -> aiohttp.ClientSession:
        """Return the open session, creating it if needed."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
