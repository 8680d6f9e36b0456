"""Ingestion: how fast documents become chunks and vectors, and what the chunk size costs."""
