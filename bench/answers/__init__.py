"""Answers: what the model says (holds the answer, refuses, cites) and how soon it starts."""
