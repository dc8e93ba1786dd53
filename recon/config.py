"""Provider settings and the optional TOML configuration file.

The flags of contract.md always work without a configuration; a file only makes the daily
command short. (Issue 6 extends this with templated paths, deadlines, pack and ledger settings.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PersonKey = Literal["local", "nhs"]


@dataclass(frozen=True)
class ProviderSettings:
    """Switches that change how national measures are computed for one provider."""

    ods: str | None = None  # provider ODS code; None = taken from the data (OrgIDProv)
    digital: bool = False  # digital provider: mechanisms 05, 09, 10, 13 qualify whatever attendance
    person_key: PersonKey = "local"  # count people by LocalPatientId or by a valid NHSNumber
