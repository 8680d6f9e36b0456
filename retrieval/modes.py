"""The search modes: the one list every front door and the settings use."""

from typing import Literal

SEARCH_MODES = ("hybrid", "dense", "keyword")
SearchMode = Literal[SEARCH_MODES]
