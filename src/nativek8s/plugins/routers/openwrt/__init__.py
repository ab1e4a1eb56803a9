"""The `openwrt` plugin: OpenWrt with BIRD 2."""
