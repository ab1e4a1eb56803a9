"""What the test suite shares: the pflag emulator of the CLI stand-ins, the HTTP test server,
the golden-file fixture and launchers for the stand-in executables."""
