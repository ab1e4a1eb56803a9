"""Topologies the openwrt tests render (the reference lab is the built-in one)."""

THREE_DCS = """
name: tri
datacentres:
  dc1:
    nodes: {dc1-node-1: {role: controlplane}, dc1-node-2: {}}
  dc2:
    nodes: {dc2-node-1: {}, dc2-node-2: {}}
  dc3:
    nodes: {dc3-node-1: {}, dc3-node-2: {}}
"""

# Six routers with at most four in a full mesh: iBGP through two route reflectors.
REFLECTED = """
name: rr
bgp: {full_mesh_max_routers: 4}
datacentres:
""" + "".join(f"""  dc{i}:
    nodes: {{n{i}: {{role: {'controlplane' if i == 1 else 'worker'}}}}}
""" for i in range(1, 7))

MD5 = """
name: md5
bgp: {md5: true}
datacentres:
  dc1:
    nodes: {node-1: {role: controlplane}}
  dc2:
    nodes: {node-2: {}}
"""

# Two routers on one LAN: only the LAN's gateway (.1) serves DHCP.
TWO_ROUTERS_ONE_DC = """
name: duo
datacentres:
  dc1:
    routers: {r1a: {}, r1b: {}}
    nodes: {node-1: {role: controlplane}}
  dc2:
    nodes: {node-2: {}}
"""

OPEN_FIREWALL = """
name: open
options:
  openwrt: {firewall: open}
datacentres:
  dc1:
    nodes: {node-1: {role: controlplane}}
  dc2:
    nodes: {node-2: {}}
"""
