"""Flag sets of the talosctl stand-in, copied from the upstream CLI reference.

Source: siderolabs/talos ``website/content/v1.13/reference/cli.md`` (tag v1.13.9) and the v1.14
page (tag v1.14.0-rc.1), plus hidden flags found in ``cmd/talosctl`` (``gen config
--output-dir``, ``version --json``). 1.14 drops ``apply-config --mode reboot`` and adds
``--cert-fingerprint`` to ``get`` and ``version``.
"""

from __future__ import annotations

from tests.support.pflag import Flag


def talos_persistent() -> list[Flag]:
    return [
        Flag("talosconfig", "string", help="The path to the Talos configuration file."),
        Flag("nodes", "stringSlice", short="n", default=[], help="target the specified nodes"),
        Flag("endpoints", "stringSlice", short="e", default=[], help="override default endpoints in Talos configuration"),
        Flag("cluster", "string", short="c", default="", help="Cluster to connect to if a proxy endpoint is used."),
        Flag("context", "string", default="", help="Context to be used in command"),
        Flag(
            "siderov1-keys-dir",
            "string",
            default="",
            help="The path to the SideroV1 auth PGP keys directory.",
        ),
    ]


def gen_persistent() -> list[Flag]:
    return [Flag("force", "bool", short="f", default=False, help="will overwrite existing files")]


def _cert_fp(v14: bool) -> list[Flag]:
    return (
        [
            Flag(
                "cert-fingerprint",
                "stringSlice",
                default=[],
                help="list of server certificate fingerprints to accept",
            )
        ]
        if v14
        else []
    )


def flags(path: str, v14: bool, default_k8s: str, default_installer: str) -> list[Flag]:
    help_flag = Flag("help", "bool", short="h", default=False, help=f"help for {path.split()[-1]}")
    table: dict[str, list[Flag]] = {
        "version": [
            Flag("client", "bool", default=False, help="Print client version only"),
            Flag("short", "bool", default=False, help="Print the short version"),
            Flag("insecure", "bool", short="i", default=False, help="use Talos maintenance mode API"),
            Flag("json", "bool", default=False, hidden=True),
            *_cert_fp(v14),
        ],
        "gen secrets": [
            Flag(
                "from-controlplane-config",
                "string",
                default="",
                help="use the provided controlplane Talos machine configuration as input",
            ),
            Flag("from-kubernetes-pki", "string", short="p", default="", help="use a Kubernetes PKI directory as input"),
            Flag(
                "kubernetes-bootstrap-token", "string", short="t", default="", help="use the provided bootstrap token as input"
            ),
            Flag("output-file", "string", short="o", default="secrets.yaml", help='path of the output file, or "-" for stdout'),
            Flag(
                "talos-version",
                "string",
                default="",
                help="the desired Talos version to generate secrets bundle for",
            ),
        ],
        "gen config": [
            Flag(
                "additional-sans",
                "stringSlice",
                default=[],
                help="additional Subject-Alt-Names for the APIServer certificate",
            ),
            Flag(
                "config-patch",
                "stringArray",
                default=[],
                help="patch generated machineconfigs (applied to all node types), use @file to read a patch from file",
            ),
            Flag(
                "config-patch-control-plane",
                "stringArray",
                default=[],
                help="patch generated machineconfigs (applied to 'init' and 'controlplane' types)",
            ),
            Flag(
                "config-patch-worker",
                "stringArray",
                default=[],
                help="patch generated machineconfigs (applied to 'worker' type)",
            ),
            Flag("dns-domain", "string", default="cluster.local", help="the dns domain to use for cluster"),
            Flag("install-disk", "string", default="/dev/sda", help="the disk to install to"),
            Flag(
                "install-image",
                "string",
                default=default_installer,
                help="the image used to perform an installation",
            ),
            Flag(
                "kubernetes-version", "string", default=default_k8s, help="desired kubernetes version to run"
            ),
            Flag("output", "string", short="o", default="", help="destination to output generated files"),
            Flag("output-dir", "string", default="", hidden=True),
            Flag(
                "output-types",
                "stringSlice",
                short="t",
                default=["controlplane", "worker", "talosconfig"],
                help="types of outputs to be generated",
            ),
            Flag(
                "registry-mirror",
                "stringSlice",
                default=[],
                help="list of registry mirrors to use in format: <registry host>=<mirror URL>",
            ),
            Flag(
                "talos-version", "string", default="", help="the desired Talos version to generate config for"
            ),
            Flag(
                "version", "string", default="v1alpha1", help="the desired machine config version to generate"
            ),
            Flag("with-cluster-discovery", "bool", default=True, help="enable cluster discovery feature"),
            Flag(
                "with-docs",
                "bool",
                default=True,
                help="renders all machine configs adding the documentation for each field",
            ),
            Flag(
                "with-examples",
                "bool",
                default=True,
                help="renders all machine configs with the commented examples",
            ),
            Flag("with-kubespan", "bool", default=False, help="enable KubeSpan feature"),
            Flag(
                "with-secrets", "string", default="", help="use a secrets file generated using 'gen secrets'"
            ),
        ],
        "apply-config": [
            Flag(
                "cert-fingerprint",
                "stringSlice",
                default=[],
                help="list of server certificate fingerprints to accept",
            ),
            Flag(
                "config-patch",
                "stringArray",
                short="p",
                default=[],
                help="the list of config patches to apply to the local config file before sending it to the node",
            ),
            Flag(
                "dry-run",
                "bool",
                default=False,
                help="check how the config change will be applied in dry-run mode",
            ),
            Flag("file", "string", short="f", default="", help="the filename of the updated configuration"),
            Flag(
                "insecure",
                "bool",
                short="i",
                default=False,
                help="apply the config using the insecure (encrypted with no auth) maintenance service",
            ),
            Flag(
                "mode",
                "enum",
                short="m",
                default="auto",
                help="apply config mode",
                choices=("auto", "no-reboot", "staged", "try")
                if v14
                else ("auto", "no-reboot", "reboot", "staged", "try"),
            ),
            Flag(
                "timeout",
                "duration",
                default=60.0,
                help="the config will be rolled back after specified timeout (if try mode is selected)",
            ),
        ],
        "bootstrap": [
            Flag("recover-from", "string", default="", help="recover etcd cluster from the snapshot"),
            Flag(
                "recover-skip-hash-check",
                "bool",
                default=False,
                help="skip integrity check when recovering etcd",
            ),
        ],
        "kubeconfig": [
            Flag(
                "force",
                "bool",
                short="f",
                default=False,
                help="Force overwrite of kubeconfig if already present, force overwrite on kubeconfig merge",
            ),
            Flag("force-context-name", "string", default="", help="Force context name for kubeconfig merge"),
            Flag("merge", "bool", short="m", default=True, help="Merge with existing kubeconfig"),
        ],
        "get": [
            *_cert_fp(v14),
            Flag(
                "insecure",
                "bool",
                short="i",
                default=False,
                help="get resources using the insecure (encrypted with no auth) maintenance service",
            ),
            Flag(
                "namespace",
                "string",
                default="",
                help="resource namespace (default is to use default namespace per resource)",
            ),
            Flag("output", "string", short="o", default="table", help="output mode (json, table, yaml, jsonpath)"),
            Flag("watch", "bool", short="w", default=False, help="watch resource changes"),
        ],
    }
    return [*table[path], help_flag]
