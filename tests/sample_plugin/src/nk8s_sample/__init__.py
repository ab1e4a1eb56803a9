"""A sample nativek8s CNI plugin, written from docs/plugins.md and nativek8s.api only."""
