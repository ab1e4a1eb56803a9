"""`nativek8s graph`: the lab as a picture.

``model`` is the picture's content (machines, networks, sessions, routing tables) built from
the plan (``build``) and, for a running lab, from observations (``live``); each format has
its own small writer (``dot``, ``mermaid``, ``svg``, ``html``).
"""

from .build import graph_of_plan
from .model import LabGraph
from .write import FORMATS, format_for, write

__all__ = ["FORMATS", "LabGraph", "format_for", "graph_of_plan", "write"]
