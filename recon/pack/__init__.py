"""The Excel sign-off pack: what a CYP lead opens, checks and signs.

``write_pack(result, path, PackOptions(...)) -> PackInfo`` writes it atomically;
``verify_pack(path)`` checks a saved pack still shows what it was signed with.
"""

from recon.pack.fingerprint import fingerprint_workbook, stated_fingerprint, verify_pack
from recon.pack.model import PackInfo, PackOptions
from recon.pack.save import write_pack
from recon.pack.sheets.signoff import FilledSignOff, read_signoff

__all__ = [
    "FilledSignOff", "PackInfo", "PackOptions", "fingerprint_workbook", "read_signoff", "stated_fingerprint",
    "verify_pack", "write_pack",
]
