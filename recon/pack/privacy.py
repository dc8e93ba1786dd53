"""What may appear in a workbook cell: masked identifiers, suppressed counts, inert text."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, wraps

from recon.nhs_number import is_valid
from recon.rounding import SUPPRESSED, SUPPRESSION_LIMIT, round5
from recon.tables import TABLES

# Text starting with one of these could be taken for a formula by a spreadsheet (CSV/formula
# injection); such cells are always written as text with Excel's quote prefix.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")

NHS_NUMBER_COLUMNS = frozenset({"NHSNumber"})
IDENTIFYING_COLUMNS = frozenset(
    c.name for t in TABLES.values() for c in t.columns if c.identifying
) | {"PersonBirthDate", "Postcode", "PostcodeOfUsualAddress", "GivenName", "FamilyName", "PersonName"}

_NHS_IN_TEXT = re.compile(r"(?<![\d*])(\d{3})([ -]?)(\d{3})\2(\d{4})(?!\d)")
# Characters an XML 1.0 document cannot hold (control characters, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def mask_nhs_number(value: str | None) -> str | None:
    """'943 476 5919' -> '*** *** 5919'; anything not ten digits is masked entirely."""
    if value is None:
        return None
    digits = re.sub(r"[\s-]", "", str(value))
    if len(digits) == 10 and digits.isdigit():
        return f"*** *** {digits[-4:]}"
    return "***" if digits else ""


def _cached_when_short(fn: Callable[[str], str]) -> Callable[[str], str]:
    """``fn`` remembered for texts up to 512 characters: a pack's cells repeat teams, rules and
    messages thousands of times; long texts (bounded memory) are worked out each time."""
    cached = lru_cache(maxsize=1 << 16)(fn)

    @wraps(fn)
    def text_fn(text: str) -> str:
        return cached(text) if len(text) <= 512 else fn(text)

    return text_fn


@_cached_when_short
def mask_text(text: str) -> str:
    """Mask every valid NHS number written inside free text (keys, messages)."""

    def repl(m: re.Match[str]) -> str:
        digits = m.group(1) + m.group(3) + m.group(4)
        return f"*** *** {m.group(4)}" if is_valid(digits) else m.group(0)

    return _NHS_IN_TEXT.sub(repl, text)


def suppress_count(n: int | float | None) -> int | float | str | None:
    """National rule below England level: 0-4 -> '*', every other count to the nearest 5."""
    if n is None:
        return None
    if 0 <= n < SUPPRESSION_LIMIT:
        return SUPPRESSED
    return round5(n)


CELL_LIMIT = 32_767  # Excel repairs (rewrites) a file holding a longer cell


@_cached_when_short
def clean_text(text: str) -> str:
    """Characters XML cannot hold are dropped; line ends become '\\n' (what a reader gets back);
    text over Excel's 32,767-character cell limit is cut, with a marker saying how much."""
    text = _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if len(text) > CELL_LIMIT:
        marker = f" [... cut: {len(text):,} of {len(text):,} characters shown]"  # its length, for the cut
        kept = CELL_LIMIT - len(marker)
        text = text[:kept] + f" [... cut: {kept:,} of {len(text):,} characters shown]"
    return text


def needs_quote(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)
