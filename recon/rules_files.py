"""Where each rules file comes from: the shipped package data, or a trust's own rules folder.

The rules ship inside the package (``recon/rules/``, read through ``importlib.resources`` so an
installed wheel has them). A trust's own rules live outside the install: the configuration's
``rules_dir`` names a folder whose files replace the shipped files of the same relative name
(``validation.toml``, ``codes.toml``, ``tolerances.toml``, ``mappings/NAME.toml``, ...); files it
does not have come from the package. Every reader asks :func:`rules_file` for its file, so an
override is seen by all of them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from recon.errors import RulesError

SHIPPED: Traversable = resources.files("recon") / "rules"

_override: Path | None = None


def set_rules_dir(folder: Path | None) -> None:
    """Use ``folder``'s files before the shipped ones (None: the shipped rules only)."""
    global _override
    if folder is not None and not folder.is_dir():
        raise RulesError(f"rules_dir {folder} is not a folder")
    _override = folder


def rules_dir() -> Path | None:
    """The override folder in use, if any."""
    return _override


@contextmanager
def using_rules_dir(folder: Path | None) -> Iterator[None]:
    """``set_rules_dir`` for the duration of a block (a run, a test)."""
    before = _override
    set_rules_dir(folder)
    try:
        yield
    finally:
        set_rules_dir(before)


@dataclass(frozen=True)
class RulesSource:
    """One rules file by relative name, from the override folder (``folder``) or the package.

    Hashable, so the readers cache what they parse by source: a different ``rules_dir`` is a
    different source and is read afresh.
    """

    name: str  # relative, e.g. "codes.toml", "mappings/riverside.toml"
    folder: Path | None = None  # the override folder holding it; None: shipped

    @property
    def resource(self) -> Traversable:
        if self.folder is not None:
            return self.folder / self.name
        shipped = SHIPPED
        for part in self.name.split("/"):
            shipped = shipped / part
        return shipped

    def is_file(self) -> bool:
        return self.resource.is_file()

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.resource.read_text(encoding=encoding)

    def read_bytes(self) -> bytes:
        return self.resource.read_bytes()

    def __str__(self) -> str:
        return str(self.resource)


def rules_file(name: str) -> RulesSource:
    """The rules file ``name``: the override folder's when it has one, else the shipped one
    (which may not exist: see :meth:`RulesSource.is_file`)."""
    if _override is not None and (_override / name).is_file():
        return RulesSource(name, _override)
    return RulesSource(name)


def rules_names(folder: str, suffix: str) -> list[str]:
    """Names (stems) of the rules files in ``folder`` ending in ``suffix``, override and shipped."""
    names = set()
    shipped = SHIPPED / folder
    if shipped.is_dir():
        names |= {p.name for p in shipped.iterdir() if p.name.endswith(suffix)}
    if _override is not None and (_override / folder).is_dir():
        names |= {p.name for p in (_override / folder).iterdir() if p.name.endswith(suffix)}
    return sorted(n[: -len(suffix)] for n in names)


def read_toml(source: Path | RulesSource, label: str) -> dict[str, Any]:
    """The TOML document of a rules file; a RulesError (exit 2) naming ``label`` when it cannot be read."""
    try:
        return tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{label} cannot be read: {exc}") from None
