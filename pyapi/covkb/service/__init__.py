"""covkb as a service: an HTTP API (``/v1``) and CDS Hooks with Da Vinci CRD
coverage information (``/cds-services``), served by ``covkb serve``.

    app.py       the HTTP front (FastAPI), problem details, body limits
    workers.py   the engine worker processes and the pool that replaces them
    ops.py       what a worker does for each operation
    crd.py       CDS Hooks discovery and the CRD coverage-information answer
    fhir_map.py  FHIR R4 records as covkb requests, by the facts of kb/vocabularies/*_fhir.pl
    fhir_read.py a missing prefetch read from an allowed FHIR server, bounded
    http_protocol.py  the HTTP/1.1 connection: head size, count and time limits
    http_rules.py     media types (415), security headers, no address from Host
    http_docs.py      /docs from vendored Swagger UI assets
    lifeline.py       children that die with the process that started them
"""
