"""Retrieval: whether a search finds the right page (hit@k, MRR) and how fast, up to long books."""
