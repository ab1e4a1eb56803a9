"""`nativek8s render`: every selected plugin's files, written under one folder."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path, PurePosixPath

from ..shared.files import write_atomic
from .compose import Selected
from .contexts import RenderContext
from .errors import PluginError
from .kinds import RenderedFile
from .plan import Plan
from .secrets import SecretStore, write_private


def render_files(plan: Plan, selected: Selected, secrets: SecretStore,
                 skip: Collection[str] = (),
                 done: Mapping[str, list[RenderedFile]] | None = None
                 ) -> dict[str, list[RenderedFile]]:
    """Plugin name → its rendered files, in composition order; none of the roles in
    ``skip``; a plugin's files in ``done`` (rendered earlier in this run) are not rendered
    again."""
    ctx = RenderContext(plan=plan, secrets=secrets, plugins=selected)
    out: dict[str, list[RenderedFile]] = {}
    for name, plugin in selected.named(skip).items():
        files = list(done[name]) if done and name in done else list(plugin.render(ctx) or [])
        for f in files:
            rel = PurePosixPath(f.path)
            if rel.is_absolute() or ".." in rel.parts or not rel.parts:
                raise PluginError(f"plugin {name!r} rendered a file with a bad path {f.path!r}; "
                                  "paths must be relative and stay inside its folder")
        out[name] = files
    return out


def write_rendered(rendered: dict[str, list[RenderedFile]], out_dir: Path) -> list[Path]:
    written: list[Path] = []
    for plugin, files in rendered.items():
        for f in files:
            path = out_dir / plugin / f.path
            path.parent.mkdir(parents=True, exist_ok=True)
            if f.secret:
                write_private(path, f.content)
            else:
                write_atomic(path, f.content)
            written.append(path)
    return written
