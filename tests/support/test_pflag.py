"""The pflag emulator against a table of spf13/pflag's behaviour.

Each row is what a cobra program (talosctl, helm, cilium) does with that command line, read from
pflag's flag.go (parseArgs, parseLongArg, parseSingleShortArg), its value types (bool.go,
int.go, duration.go, string_slice.go, string_array.go, string_to_string.go) and the Go library
functions they call (strconv.ParseBool, strconv.ParseInt(s, 0, 64), time.ParseDuration,
encoding/csv Reader.Read).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.pflag import (
    ARRAY,
    BOOL,
    DURATION,
    ENUM,
    FLOAT,
    INT,
    MAP,
    SLICE,
    STRING,
    Flag,
    FlagError,
    FlagSet,
    command_words,
    parse_duration,
)

FLAGS = [
    Flag("file", STRING, "", "f"),
    Flag("insecure", BOOL, False, "i"),
    Flag("verbose", BOOL, False, "v"),
    Flag("nodes", SLICE, ["default"], "n"),
    Flag("config-patch", ARRAY, [], "p"),
    Flag("timeout", DURATION, 60.0),
    Flag("count", INT, 1, "c"),
    Flag("qps", FLOAT, 0.0),
    Flag("labels", MAP, {}, "l"),
    Flag("dry-run", STRING, "", no_opt_default="client"),
    Flag("mode", ENUM, "auto", choices=("auto", "reboot", "no-reboot")),
]

# argv -> (flag values that must differ from the defaults, positional args)
ACCEPTED: list[tuple[list[str], dict[str, Any], list[str]]] = [
    (["a", "--file=x", "b"], {"file": "x"}, ["a", "b"]),  # interspersed
    (["--file", "x"], {"file": "x"}, []),
    (["-fx"], {"file": "x"}, []),
    (["-f", "x"], {"file": "x"}, []),
    (["-f=x"], {"file": "x"}, []),  # '-f=arg': the "=" is not part of the value
    (["--file="], {"file": ""}, []),
    (["--file", "--insecure"], {"file": "--insecure"}, []),  # a value may look like a flag
    (["-iv"], {"insecure": True, "verbose": True}, []),  # shorthand cluster
    (["-ivfx.yaml"], {"insecure": True, "verbose": True, "file": "x.yaml"}, []),
    (["-if", "c.yaml"], {"insecure": True, "file": "c.yaml"}, []),
    (["--insecure=false"], {}, []),
    (["--insecure", "false"], {"insecure": True}, ["false"]),  # bools never take the next word
    (["-i=false"], {}, []),
    (["--insecure=T", "--verbose=1"], {"insecure": True, "verbose": True}, []),
    (["--", "--file", "-i"], {}, ["--file", "-i"]),  # "--" ends the flags
    (["-", "x"], {}, ["-", "x"]),  # a lone "-" is an argument
    (["--nodes=a,b", "-n", "c"], {"nodes": ["a", "b", "c"]}, []),  # first Set replaces the default
    (["--nodes", 'a,"b,c"'], {"nodes": ["a", "b,c"]}, []),  # encoding/csv quoting
    (["--nodes", '"say ""hi""",x'], {"nodes": ['say "hi"', "x"]}, []),
    (["--nodes", "a,"], {"nodes": ["a", ""]}, []),  # csv keeps the empty last field
    (["--nodes", ""], {"nodes": []}, []),
    (["-p", "x: 1", "--config-patch", "y: a,b"], {"config-patch": ["x: 1", "y: a,b"]}, []),
    (["--timeout", "1m30s"], {"timeout": 90.0}, []),
    (["--count", "0x10"], {"count": 16}, []),  # ParseInt base 0
    (["--count=010"], {"count": 8}, []),  # leading 0 is octal
    (["-c", "0b101"], {"count": 5}, []),
    (["--count=-1_000"], {"count": -1000}, []),
    (["--qps", "2.5"], {"qps": 2.5}, []),
    (["--labels", "a=b,c"], {"labels": {"a": "b,c"}}, []),  # one "=": the whole value is one pair
    (["--labels", "a=1,b=2", "-l", "c=3"], {"labels": {"a": "1", "b": "2", "c": "3"}}, []),
    (["--dry-run"], {"dry-run": "client"}, []),  # NoOptDefVal
    (["--dry-run", "server"], {"dry-run": "client"}, ["server"]),
    (["--dry-run=server"], {"dry-run": "server"}, []),
    (["--mode", "reboot"], {"mode": "reboot"}, []),
    (["--help"], {"help": True}, []),  # cobra's help flag on every command
    (["-h"], {"help": True}, []),
]

REJECTED: list[tuple[list[str], str]] = [
    (["--nope"], "unknown flag: --nope"),
    (["--nope=1"], "unknown flag: --nope"),
    (["-x"], "unknown shorthand flag: 'x' in -x"),
    (["-ix"], "unknown shorthand flag: 'x' in -x"),  # pflag names the rest of the cluster
    (["-xi"], "unknown shorthand flag: 'x' in -xi"),
    (["---file"], "bad flag syntax: ---file"),
    (["--=x"], "bad flag syntax: --=x"),
    (["--file"], "flag needs an argument: --file"),
    (["-f"], "flag needs an argument: 'f' in -f"),
    (["-if"], "flag needs an argument: 'f' in -f"),
    (["--insecure=yes"],
     'invalid argument "yes" for "-i, --insecure" flag: strconv.ParseBool: parsing "yes": invalid syntax'),
    (["--timeout=5"], 'invalid argument "5" for "--timeout" flag: time: missing unit in duration "5"'),
    (["--timeout=1x"], 'invalid argument "1x" for "--timeout" flag: time: unknown unit "x" in duration "1x"'),
    (["--timeout=m"], 'invalid argument "m" for "--timeout" flag: time: invalid duration "m"'),
    (["--timeout="], 'invalid argument "" for "--timeout" flag: time: invalid duration ""'),
    (["--count=x"], 'invalid argument "x" for "-c, --count" flag: strconv.ParseInt: parsing "x": invalid syntax'),
    (["--count=08"], 'invalid argument "08" for "-c, --count" flag: strconv.ParseInt: parsing "08": invalid syntax'),
    (["--count= 5"], 'invalid argument " 5" for "-c, --count" flag: strconv.ParseInt: parsing " 5": invalid syntax'),
    (["--count=9223372036854775808"],
     'invalid argument "9223372036854775808" for "-c, --count" flag: '
     'strconv.ParseInt: parsing "9223372036854775808": value out of range'),
    (["--qps=fast"], 'invalid argument "fast" for "--qps" flag: strconv.ParseFloat: parsing "fast": invalid syntax'),
    (["--nodes", 'a"b'],
     'invalid argument "a\\"b" for "-n, --nodes" flag: parse error on line 1, column 2: bare " in non-quoted-field'),
    (["--nodes", 'x,"a"b'],
     'invalid argument "x,\\"a\\"b" for "-n, --nodes" flag: '
     'parse error on line 1, column 5: extraneous or missing " in quoted-field'),
    (["--nodes", '"abc'],
     'invalid argument "\\"abc" for "-n, --nodes" flag: '
     'parse error on line 1, column 5: extraneous or missing " in quoted-field'),
    (["--labels", "ab"], 'invalid argument "ab" for "-l, --labels" flag: ab must be formatted as key=value'),
    (["--mode", "x"], 'invalid argument "x" for "--mode" flag: possible options are: auto, no-reboot, reboot'),
]


@pytest.mark.parametrize(("argv", "changes", "args"), ACCEPTED, ids=[" ".join(a[0]) for a in ACCEPTED])
def test_pflag_accepts(argv: list[str], changes: dict[str, Any], args: list[str]) -> None:
    flagset = FlagSet(FLAGS)
    parsed = flagset.parse(argv)
    expected = {name: flag.default for name, flag in flagset.flags.items()} | changes
    assert parsed.values == expected
    assert parsed.args == args


@pytest.mark.parametrize(("argv", "message"), REJECTED, ids=[" ".join(r[0]) for r in REJECTED])
def test_pflag_rejects_with_its_words(argv: list[str], message: str) -> None:
    with pytest.raises(FlagError) as err:
        FlagSet(FLAGS).parse(argv)
    assert str(err.value) == message


def test_defaults_are_not_shared_between_parses() -> None:
    flagset = FlagSet(FLAGS)
    flagset.parse(["-p", "x"])
    assert flagset.parse([])["config-patch"] == [] and FLAGS[3].default == ["default"]


def test_changed_names_what_was_given() -> None:
    parsed = FlagSet(FLAGS).parse(["--insecure=false", "x"])
    assert parsed.changed == {"insecure"}


def test_normalized_names_match_either_spelling() -> None:
    flagset = FlagSet([Flag("helm-set", ARRAY, [])], normalize=lambda n: n.replace("_", "-"))
    assert flagset.parse(["--helm_set", "a=1"])["helm-set"] == ["a=1"]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("-0", 0.0), ("20m0s", 1200.0), ("1.5h", 5400.0), (".5s", 0.5), ("5.s", 5.0),
     ("250ms", 0.25), ("1h2m3s4ms", 3723.004), ("-1m", -60.0), ("+2s", 2.0), ("3µs", 3e-6)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", ".", "-", ".s", "1.5", "1h5"])
def test_go_duration_errors(text: str) -> None:
    with pytest.raises(ValueError, match=r"^time: (invalid duration|missing unit in duration) "):
        parse_duration(text)


def test_cobra_finds_the_subcommand_past_flags_and_their_values() -> None:
    flags = [Flag("namespace", STRING, "", "n"), Flag("debug", BOOL, False)]
    assert command_words(["-n", "x", "--debug", "upgrade", "rel", "chart"], flags) == ["upgrade", "rel", "chart"]
    assert command_words(["--namespace=x", "status"], flags) == ["status"]
    # an unknown --flag takes the next word with it, as cobra's stripFlags assumes
    assert command_words(["--other", "x", "install", "y"], flags) == ["install", "y"]
    assert command_words(["install", "--", "rest"], flags) == ["install"]
