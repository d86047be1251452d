"""What HallClient ships from others, and under which licences: the fonts and libraries listed
in hallclient/resources/licenses/components.json, each with its licence texts beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from hallclient.resources import resource

INDEX = "licenses/components.json"


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    licence: str  # an SPDX licence expression
    distributions: tuple[str, ...]  # the Python distributions it covers (normalised names)
    files: tuple[str, ...]  # its licence texts, relative to hallclient/resources/

    def text(self) -> str:
        return "\n\n".join(resource(f).read_text(encoding="utf-8") for f in self.files)


def bundled_components() -> list[Component]:
    entries = json.loads(resource(INDEX).read_text(encoding="utf-8"))
    return [Component(e["name"], e["licence"], tuple(e["distributions"]), tuple(e["files"]))
            for e in entries]
