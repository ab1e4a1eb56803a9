"""FRRouting (zebra + bgpd) as a nativek8s router OS."""
