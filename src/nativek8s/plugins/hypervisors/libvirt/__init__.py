"""The `libvirt` plugin: libvirt/QEMU virtual machines (local or remote URI)."""
