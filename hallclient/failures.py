"""What a failure comes to, in the clerk's words: the reason a refusal carries, what the server
or the network said (`hallclient.sync.api.in_words`), else a fixed sentence, with the failure's
type and place in the log. Never an exception's own text on screen: a programmer's words, in
English, that may name a customer."""

from __future__ import annotations

import logging

from hallclient.logs import where
from hallcore.domain.text import Text, sentence

log = logging.getLogger(__name__)

UNEXPECTED = Text("发生意外错误，已记入日志", "an unexpected error, written to the log")


def causes(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from, outermost first."""
    chain: list[BaseException] = []
    found: BaseException | None = exc
    while found is not None:
        chain.append(found)
        found = found.__cause__
    return chain


def reason_of(exc: BaseException) -> Text | None:
    """The words in both languages that `exc`, or an exception it was raised from, carries: a
    refusal's `reason`, or what the server or the network failure comes to; None without."""
    # Here, not at the top: the login window opens before the network libraries load.
    from hallclient.sync.api import in_words

    for found in causes(exc):
        reason = getattr(found, "reason", None)
        if isinstance(reason, Text):
            return Text(reason.zh, sentence(reason.en))
    return in_words(exc)


def said(exc: BaseException, doing: str) -> Text:
    """`exc` in words: its reason when it has one, else UNEXPECTED, the failure logged as
    failing `doing` (its types and places; never its message)."""
    reason = reason_of(exc)
    if reason is not None:
        return reason
    log.error("%s failed:\n%s", doing, "\nraised from ".join(
        f"{type(found).__name__}\n{where(found)}" for found in causes(exc)))
    return UNEXPECTED
