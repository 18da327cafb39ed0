"""Annuaire Santé imports: open-data LibreAcces, PSC's extract, FHIR Bundles; plain or zipped.

``source`` opens and recognises a file, ``tabular``/``fhir`` turn it into persons and rejects,
``upsert`` writes a batch, ``run`` drives one resumable import (read its docstring for what is
guaranteed when a file or a row is bad, or when the process dies mid-way).
"""

from psc_idp.directory.importers.run import DEFAULT_BATCH_SIZE, ImportSummary, run_import
from psc_idp.directory.importers.source import FORMATS, ImportFileError

__all__ = ["DEFAULT_BATCH_SIZE", "FORMATS", "ImportFileError", "ImportSummary", "run_import"]
