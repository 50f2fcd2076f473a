"""The web pages of ``covkb serve``: Determine, Policy (literate view) and
Revisions, server-rendered from the same operations the HTTP API runs.

Pages are Jinja2 templates rendered by the front; every engine question
(determine, check, diff, pictures) goes to the engine workers exactly as the
``/v1`` API's do, so a page shows what the API answers.  No build step, no
network at run time: the one script library (htmx, for in-place updates) is
vendored under ``static/vendor`` with its licence, and every page works
without JavaScript.  ``pages.mount`` adds them to the service's app.
"""
