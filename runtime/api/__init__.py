"""Kairo's HTTP API: a FastAPI app behind a Ray Serve ingress deployment.

``app`` builds the app and the Serve deployment, ``routes/`` holds one module per resource
group, ``errors`` is the one place errors become HTTP responses, ``auth`` and ``access`` decide
who may do what. This package file stays empty so that ``runtime.api.bootstrap`` can be
imported without Ray Serve.
"""
