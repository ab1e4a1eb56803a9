"""The `proxmox` plugin: Proxmox VE cluster (datacentres spread over its nodes)."""
