"""The `cilium` plugin: Cilium, native routing with the BGP control plane."""
