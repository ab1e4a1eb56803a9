"""Plugin options: validated like every topology option, and carried into bird.conf."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nativek8s.plugins.routers.openwrt.options import OpenWrtOptions


def test_defaults():
    opts = OpenWrtOptions()
    assert (opts.firewall, opts.ssh_from_wan) == ("strict", False)
    assert (opts.connect_delay_time, opts.error_wait_time) == (0, (1, 5))


@pytest.mark.parametrize("bad", [
    {"error_wait_time": [5, 1]}, {"error_wait_time": [0, 3]}, {"connect_delay_time": -1},
    {"firewall": "closed"}, {"colour": "red"},
])
def test_bad_values_are_refused(bad):
    with pytest.raises(ValidationError):
        OpenWrtOptions.model_validate(bad)


def test_bird_timers_from_options_pass_bird_parse(render_lab, bird_check):
    lab = render_lab("""
name: timers
options: {openwrt: {connect_delay_time: 2, error_wait_time: [3, 30]}}
datacentres:
  dc1: {nodes: {node-1: {role: controlplane}}}
  dc2: {nodes: {node-2: {}}, options: {openwrt: {error_wait_time: [2, 20]}}}
""")
    conf1 = lab.text("router-1", "/etc/bird.conf")
    conf2 = lab.text("router-2", "/etc/bird.conf")
    assert conf1.count("connect delay time 2;") == 2 and conf1.count("error wait time 3,30;") == 2
    assert conf2.count("connect delay time 2;") == 2 and conf2.count("error wait time 2,20;") == 2
    for conf in (conf1, conf2):
        assert bird_check(conf).returncode == 0
