"""The `talos` plugin: Talos Linux nodes via talosctl."""
