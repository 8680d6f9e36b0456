"""The search modes: the one list every front door and the settings use."""

from typing import Literal, get_args

SearchMode = Literal["hybrid", "dense", "keyword"]
SEARCH_MODES: tuple[str, ...] = get_args(SearchMode)
