"""/docs: the interactive OpenAPI page, from vendored assets.

FastAPI's own /docs loads Swagger UI from a CDN (unpinned, without
integrity) and starts it with an inline script, which the service's
Content-Security-Policy forbids.  Here the Swagger UI files come from a
package, served under /docs-assets/swagger-ui, and the page starts it from
a file of covkb's own (static/docs.js).  The package is fastapi-offline,
for its Swagger UI 5 assets only: ``swagger-ui-bundle`` ships Swagger UI
4.15, which cannot read the OpenAPI 3.1 document FastAPI writes.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>covkb API</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui/swagger-ui.css">
<script src="/docs-assets/swagger-ui/swagger-ui-bundle.js" defer></script>
<script src="/docs-assets/covkb/docs.js" defer></script>
</head>
<body><div id="swagger-ui"></div></body>
</html>
"""


def mount_docs(app: FastAPI) -> None:
    from importlib.resources import files

    swagger_ui = files("fastapi_offline") / "static"
    app.mount("/docs-assets/swagger-ui", StaticFiles(directory=str(swagger_ui)), name="swagger-ui")
    app.mount("/docs-assets/covkb", StaticFiles(directory=str(STATIC)), name="service-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)
