"""Readers: MHSDS-layout extracts, local EPR extracts through a mapping, published MHSMS files."""

from recon.sources.extract import Extract, SourceFile, file_sha256, load_extract
from recon.sources.mapping import Mapping, load_mapping

__all__ = ["Extract", "Mapping", "SourceFile", "file_sha256", "load_extract", "load_mapping"]
