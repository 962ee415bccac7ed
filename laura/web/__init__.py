"""The web app: server-rendered pages (Jinja2, htmx, Alpine.js) served by the API's own process.

Pages call the same services the API's routes call (never the API over HTTP, never the database from a
route); `mount.install` adds them, the static files and the CSRF check to the FastAPI app."""
