"""The labs every plugin is checked against: the built-in reference lab, and three
datacentres whose routers talk through route reflectors, with MD5."""

from __future__ import annotations

REFERENCE = None  # load_topology(None): the built-in reference lab

THREE_DC_RR = """\
name: {name}
bgp: {{full_mesh_max_routers: 2, md5: true}}
datacentres:
  dc1:
    nodes: {{dc1-node-1: {{role: controlplane}}, dc1-node-2: {{}}}}
  dc2:
    nodes: {{dc2-node-1: {{}}}}
  dc3:
    nodes: {{dc3-node-1: {{}}}}
"""

NO_SUCH_OPTION = "no-such-option"
