"""One data quality result for a month's extract: predicted SDCS outcome, VODIM and the DQMI estimate.

The single object every renderer reads (console, JSON, the pack's Data quality sheet and Cover).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from recon.months import Month
from recon.quality.predict import SdcsPrediction, predict
from recon.quality.view import submission_view
from recon.quality.vodim import VodimResult, vodim
from recon.sources import Extract


@dataclass(frozen=True)
class DataQuality:
    prediction: SdcsPrediction
    vodim: VodimResult
    cut: bool  # the extract was cut to M's submission (mapped, or many months)

    @property
    def has_rejections(self) -> bool:
        return self.prediction.has_rejections

    def to_json_dict(self) -> dict[str, Any]:
        sdcs = self.prediction.to_json_dict() | {"cut_to_month": self.cut}
        return {"sdcs": sdcs, **self.vodim.to_json_dict()}


def assess(extract: Extract, month: Month, *, provider: str | None, today: dt.date | None = None) -> DataQuality:
    """Read M's submission from the extract, predict SDCS's outcome, count VODIM on what it loads."""
    view = submission_view(extract, month, provider=provider, today=today)
    prediction = predict(view)
    return DataQuality(prediction, vodim(view, prediction), view.cut)
