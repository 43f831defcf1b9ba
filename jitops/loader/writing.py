"""Writing a request file as jitops writes them: block style, keys in the given order."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import VersionedResolver

from jitops.loader.fast_path import STR_TAG, TIMESTAMP_TAG

_YAML_11 = VersionedResolver(version=(1, 1))


def _blockable(text: str) -> bool:
    """Whether ``text`` reads back the same from a literal block: printable lines (tabs
    allowed), none with trailing spaces, ending in one line break."""
    lines = text.split("\n")
    return (
        text.endswith("\n")
        and not text.endswith("\n\n")
        and not text.startswith((" ", "\n"))
        and all(line == line.rstrip() and line.replace("\t", " ").isprintable() for line in lines)
    )


class _Representer(SafeRepresenter):
    """Plain block style as people write access files: timestamps as ``2026-11-29T01:00:00Z``
    and strings quoted whenever a reader could take them for anything else."""

    def represent_str(self, data: str) -> Any:
        if "\n" in data and _blockable(data):
            # several lines (a SQL action's statements): a literal block, as people write it
            return self.represent_scalar(STR_TAG, data, style="|")
        node = super().represent_str(data)
        # ruamel quotes what YAML 1.2 would read as another type; quote what YAML 1.1 tools
        # (editors, linters) would misread too, such as `no`, `on` or `0755`
        if node.style is None and _YAML_11.resolve(ScalarNode, data, (True, False)) != STR_TAG:
            node.style = "'"
        return node

    def represent_datetime(self, data: datetime) -> Any:
        if data.tzinfo is None:
            raise ValueError("a timestamp without a timezone cannot be written")
        text = data.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return self.represent_scalar(TIMESTAMP_TAG, text)


_Representer.add_representer(str, _Representer.represent_str)
_Representer.add_representer(datetime, _Representer.represent_datetime)


def dump_document(data: Mapping[str, Any]) -> str:
    """Write a mapping of plain values as a YAML document ``load_document`` reads back equal.

    Keys keep their order; nothing is folded onto a second line, so each field is one line.
    """
    yaml = YAML(typ="safe", pure=True)
    yaml.Representer = _Representer
    yaml.default_flow_style = False
    yaml.width = 1 << 16  # never fold: a file longer than MAX_FILE_BYTES is refused anyway
    yaml.allow_unicode = True
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    stream = io.StringIO()
    yaml.dump(dict(data), stream)
    return stream.getvalue()
