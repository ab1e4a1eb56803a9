"""In-process tests of the stand-in's cobra/pflag-like parsing and its patch merge rules."""

from __future__ import annotations

import pytest
import talos_cli
import talos_patch
from talos_config import ConfigError
from talos_flags import Flag, UsageError, parse, parse_go_duration

FLAGS = [
    Flag("file", "string", "f", ""),
    Flag("insecure", "bool", "i", False),
    Flag("nodes", "stringSlice", "n", []),
    Flag("config-patch", "stringArray", "p", []),
    Flag("merge", "bool", "m", True),
    Flag("timeout", "duration", default=60.0),
]


def test_forms_of_flags_and_interspersed_arguments() -> None:
    parsed = parse(
        FLAGS,
        [
            "a",
            "-f",
            "x.yaml",
            "-i",
            "--nodes=1.1.1.1,2.2.2.2",
            "b",
            "-n3.3.3.3",
            "-p",
            "x: 1",
            "--config-patch",
            "y: a,b",
            "--merge=false",
            "--timeout",
            "1m30s",
        ],
    )
    assert parsed.args == ["a", "b"]
    assert parsed["file"] == "x.yaml" and parsed["insecure"] is True and parsed["merge"] is False
    assert parsed["nodes"] == ["1.1.1.1", "2.2.2.2", "3.3.3.3"]  # slices split on commas, repeat
    assert parsed["config-patch"] == ["x: 1", "y: a,b"]  # arrays do not split
    assert parsed["timeout"] == 90.0


def test_bool_flags_take_no_separate_value_and_double_dash_ends_flags() -> None:
    parsed = parse(FLAGS, ["--merge", "false", "--", "--file", "-i"])
    assert parsed["merge"] is True and parsed.args == ["false", "--file", "-i"]
    assert parse(FLAGS, ["-if", "c.yaml"])["file"] == "c.yaml"  # clustered shorthands


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nope"], "unknown flag: --nope"),
        (["-x"], "unknown shorthand flag: 'x' in -x"),
        (["-ix"], "unknown shorthand flag: 'x' in -ix"),
        (["--file"], "flag needs an argument: --file"),
        (["-f"], "flag needs an argument: 'f' in -f"),
        (
            ["--insecure=yes"],
            'invalid argument "yes" for "-i, --insecure" flag: strconv.ParseBool: parsing "yes": invalid syntax',
        ),
        (["--timeout=5"], 'invalid argument "5" for "--timeout" flag: time: invalid duration "5"'),
    ],
)
def test_errors_use_pflag_wording(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(FLAGS, argv)
    assert str(err.value) == message


def test_go_durations() -> None:
    assert parse_go_duration("0") == 0.0
    assert parse_go_duration("20m0s") == 1200.0
    assert parse_go_duration("1.5h") == 5400.0
    assert parse_go_duration("250ms") == pytest.approx(0.25)
    for bad in ("", "5", "1x", "m"):
        with pytest.raises(ValueError):
            parse_go_duration(bad)


def test_command_resolution_skips_flags_before_the_command() -> None:
    command, called_as, rest = talos_cli.resolve(["-n", "10.0.0.1", "apply", "-f", "c.yaml"])
    assert (command.path, called_as, rest) == ("apply-config", "apply", ["-n", "10.0.0.1", "-f", "c.yaml"])
    command, _, rest = talos_cli.resolve(["gen", "--force", "config", "a", "https://a:6443"])
    assert command.path == "gen config" and rest == ["--force", "a", "https://a:6443"]


def test_strategic_merge_deletes_and_rejects_type_changes() -> None:
    base = [{"version": "v1alpha1", "machine": {"install": {"disk": "/dev/sda"}, "certSANs": ["a"]}}]
    patch = talos_patch.load_patches(["machine:\n  install:\n    $patch: delete\n"])
    assert talos_patch.apply_patches(base, patch) == [{"version": "v1alpha1", "machine": {"certSANs": ["a"]}}]
    with pytest.raises(ConfigError, match="type mismatch"):
        talos_patch.apply_patches(base, talos_patch.load_patches(['{"machine": {"certSANs": "b"}}']))


def test_json6902_patch() -> None:
    base = [{"version": "v1alpha1", "machine": {"install": {"disk": "/dev/sda"}}}]
    patch = talos_patch.load_patches(
        ['[{"op": "replace", "path": "/machine/install/disk", "value": "/dev/vda"}]']
    )
    assert talos_patch.apply_patches(base, patch)[0]["machine"]["install"]["disk"] == "/dev/vda"
    bad = talos_patch.load_patches(['[{"op": "replace", "path": "/machine/nope", "value": 1}]'])
    with pytest.raises(ConfigError, match="missing key"):
        talos_patch.apply_patches(base, bad)
