"""The `nativek8s` command line. Modules here import heavy things only inside commands."""
