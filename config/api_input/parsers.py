"""JSON request bodies, refused with 400 when nested beyond API_JSON_MAX_DEPTH or longer than API_JSON_MAX_BYTES."""

from __future__ import annotations

import codecs
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

# JSON string literals (escapes included): brackets inside them do not nest anything.
STRING_LITERAL = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
BRACKET = re.compile(r"[\[\]{}]")


def json_nesting_exceeds(text: str, limit: int) -> bool:
    """Return whether the arrays and objects of a JSON text nest deeper than `limit`.

    Counted on the text before parsing: Python's decoder recurses once per level and a body nested
    a few thousand deep would end in RecursionError, a 500, rather than in a parse error.
    """
    depth = 0
    for bracket in BRACKET.findall(STRING_LITERAL.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, but a body nested too deep or too long is a 400 with a message."""

    def parse(self, stream, media_type=None, parser_context=None):  # noqa: ANN001, ANN201
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        max_bytes = settings.API_JSON_MAX_BYTES
        raw = stream.read(max_bytes + 1) if stream is not None else b""
        if len(raw) > max_bytes:
            raise ParseError(f"请求体过大，上限 {max_bytes} 字节 / JSON body larger than {max_bytes} bytes")
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"请求体不是有效的 {encoding} 文本 / JSON body is not valid {encoding}: {exc}") from exc
        max_depth = settings.API_JSON_MAX_DEPTH
        if json_nesting_exceeds(text, max_depth):
            raise ParseError(f"JSON 嵌套过深，上限 {max_depth} 层 / JSON nested deeper than {max_depth} levels")
        parse_constant = json.strict_constant if self.strict else None  # NaN and Infinity are refused
        try:
            return json.loads(text, parse_constant=parse_constant)
        except RecursionError as exc:  # a decoder deeper than the scan expects: still the client's fault
            raise ParseError("JSON 嵌套过深 / JSON nested too deep") from exc
        except ValueError as exc:
            raise ParseError(f"JSON 格式错误 / JSON parse error - {exc}") from exc
