"""Bilingual text: every message a clerk may read to a customer exists in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["zh", "en"]


@dataclass(frozen=True, slots=True)
class Text:
    """A message in both languages. Placeholders use str.format syntax."""

    zh: str
    en: str

    def format(self, **values: object) -> Text:
        """Fill placeholders; a Text value gives its Chinese to the Chinese side and its
        English to the English side."""
        zh = {k: v.zh if isinstance(v, Text) else v for k, v in values.items()}
        en = {k: v.en if isinstance(v, Text) else v for k, v in values.items()}
        return Text(self.zh.format(**zh), self.en.format(**en))

    def __getitem__(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


def sentence(text: str) -> str:
    """A domain text (written to sit mid-sentence: "the account owes …") shown on its own."""
    return text[:1].upper() + text[1:]


class InvalidInput(ValueError):
    """What a clerk typed cannot be accepted; `reason` says precisely why, in both languages."""

    def __init__(self, reason: Text) -> None:
        super().__init__(str(reason))
        self.reason = reason
