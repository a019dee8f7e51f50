"""The JSON parser of every service: one policy for what a JSON body may be.

- The body is UTF-8 whatever charset the Content-Type names: RFC 8259 defines
  no charset parameter for JSON ("adding one really has no effect"). Honouring
  one let a client pick the decoder: ``charset=rot13`` crashed it (LookupError),
  ``charset=utf-7`` turned ``+2AA-`` into a lone surrogate.
- Numbers stay exact (Decimal instead of float); NaN and Infinity are refused.
- The text must be Unicode: a ``\\ud800``-style escape of a lone UTF-16 surrogate
  is legal JSON syntax but no character, and nothing downstream can encode it
  (the database, a log line, an answer echoing it). It is refused here, so no
  view ever sees one.
- A key repeated in one object is refused: which of the two values counts is
  ambiguity, and for money ambiguity is refused (docs/CONVENTIONS.md).

Each refusal is a ParseError: 400 ``malformed_request`` naming the problem.
"""

import json
import re
from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A lone surrogate can only come from a \uXXXX escape in D800-DFFF (the body is
# decoded as UTF-8, which has no surrogates): without one, no value is checked.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
SURROGATE = re.compile("[\ud800-\udfff]")
KEY_SHOWN = 64  # characters of a duplicate key the error repeats


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise ParseError(
                    f"Malformed JSON: the key {shown_key(key)} appears twice in one object."
                )
            seen.add(key)
    return result


def shown_key(key: str) -> str:
    """A client's key as an error message may repeat it: bounded and encodable."""
    text = key if len(key) <= KEY_SHOWN else key[:KEY_SHOWN] + "..."
    return json.dumps(text)  # quoted, with any control character or surrogate escaped


def has_lone_surrogate(value: object) -> bool:
    """Whether a parsed JSON value holds a lone surrogate, in a key or a string value."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class ExactJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            text = stream.read().decode("utf-8") if stream is not None else ""
            if not text.strip():
                raise ParseError("The request body is empty; a JSON object is expected.")
            data = json.loads(
                text,
                parse_float=Decimal,
                parse_constant=_refuse_constant,
                object_pairs_hook=_object_without_duplicates,
            )
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
        if SURROGATE_ESCAPE.search(text) and has_lone_surrogate(data):
            raise ParseError(
                "Malformed JSON: the text is not valid Unicode "
                "(a \\uD800-\\uDFFF escape that is not half of a surrogate pair)."
            )
        return data
