"""Text from data or paths made safe to print: no terminal escapes, no forged lines, bounded length.

A file name or a value can hold ESC sequences (recolour or clear the terminal), newlines (a
forged log line), bidirectional overrides (text that reads differently than it is) or a megabyte
of header. Everything recon prints or logs about its inputs passes through :func:`clean`.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, and the Unicode bidirectional overrides and isolates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEP_LINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
MESSAGE_LIMIT = 2000


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def clean(text: str, limit: int = MESSAGE_LIMIT, *, keep_lines: bool = False) -> str:
    """Control characters shown as escapes (\\x1b, \\n); longer than ``limit``: cut with a marker.
    ``keep_lines`` leaves newlines alone (console text recon itself lays out on several lines)."""
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text) - limit:,} more characters)"
    return (_UNSAFE_KEEP_LINES if keep_lines else _UNSAFE).sub(_escape, text)
