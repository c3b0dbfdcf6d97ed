"""The observatory's web dashboard (FastAPI, pages rendered on the server, no CDN)."""
