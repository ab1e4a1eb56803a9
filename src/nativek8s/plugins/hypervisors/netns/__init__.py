"""The `netns` plugin: Linux network namespaces on this host: real BIRD routers and GoBGP node
speakers, no VMs."""
