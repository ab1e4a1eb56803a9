"""Test infrastructure for the libvirt hypervisor plugin against a real private libvirtd."""
