"""What the engine needs to open a client: where, which edition, which key.

The engine opens its own :class:`RecotapClient` so that it can hand it the run's
cancellation event and its 429 listener (adaptive concurrency).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from recotap_desktop.api import RecotapClient, RetryInfo
from recotap_desktop.domain.editions import EditionRules, rules_for


@dataclass(frozen=True)
class ConnectionSpec:
    base_url: str | None
    edition: str = "crm"
    api_key: str = field(default="", repr=False)
    allow_insecure_http: bool = False
    profile: str = ""
    timeout: float = 30.0

    def __repr__(self) -> str:
        return (
            f"ConnectionSpec(profile={self.profile!r}, edition={self.edition!r}, "
            f"base_url={self.base_url!r}, api_key='***')"
        )

    @property
    def rules(self) -> EditionRules:
        return rules_for(self.edition)

    @property
    def effective_base_url(self) -> str:
        return self.base_url or self.rules.default_base_url

    @property
    def host(self) -> str:
        return urlsplit(self.effective_base_url).netloc

    def open(
        self,
        *,
        on_retry: Callable[[RetryInfo], None] | None = None,
        cancel_event: threading.Event | None = None,
        **kwargs: Any,
    ) -> RecotapClient:
        return RecotapClient(
            self.api_key,
            base_url=self.base_url,
            edition=self.edition,
            allow_insecure_http=self.allow_insecure_http,
            timeout=self.timeout,
            on_retry=on_retry,
            cancel_event=cancel_event,
            **kwargs,
        )
