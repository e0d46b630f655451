"""SLO specs: the model every format reads into (``model``), the OpenSLO and Sloth readers
(``openslo``, ``sloth``), and the loader of files and documents (``loader``).

The ingest layer's spec reader (see ``docs/architecture.md``): ``load_slo_files`` turns spec
files into one :class:`SloCatalogue`, with a problem (file, document, field) for each thing it
cannot read.
"""

from srelib.ingest.specs.document import document_version
from srelib.ingest.specs.loader import FORMATS, data_dir_spec_files, load_slo_files, spec_documents, spec_files
from srelib.ingest.specs.model import BUDGETING_METHODS, SloCatalogue, SloSpec, TimeWindow, parse_duration
from srelib.ingest.specs.openslo import OPENSLO_V1, OPENSLO_V1ALPHA, OPENSLO_V2ALPHA
from srelib.ingest.specs.sloth import SLOTH_KUBERNETES, SLOTH_PROMETHEUS

__all__ = [
    "BUDGETING_METHODS",
    "FORMATS",
    "OPENSLO_V1",
    "OPENSLO_V1ALPHA",
    "OPENSLO_V2ALPHA",
    "SLOTH_KUBERNETES",
    "SLOTH_PROMETHEUS",
    "SloCatalogue",
    "SloSpec",
    "TimeWindow",
    "data_dir_spec_files",
    "document_version",
    "load_slo_files",
    "parse_duration",
    "spec_documents",
    "spec_files",
]
