"""The Excel sign-off pack: what a CYP lead opens, checks and signs.

``write_pack(result, path, PackOptions(...)) -> PackInfo`` writes it atomically;
``verify_pack(path)`` checks a saved pack still shows what it was signed with.
"""

from recon.pack.model import PackInfo, PackOptions
from recon.pack.writer import (
    FilledSignOff,
    fingerprint_workbook,
    read_signoff,
    stated_fingerprint,
    verify_pack,
    write_pack,
)

__all__ = [
    "FilledSignOff", "PackInfo", "PackOptions", "fingerprint_workbook", "read_signoff", "stated_fingerprint",
    "verify_pack", "write_pack",
]
