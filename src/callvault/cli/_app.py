"""The ``callvault`` command: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from callvault.cli import (
    _audit,
    _backup,
    _ca,
    _db,
    _demo,
    _egress,
    _erasure,
    _evidence,
    _keyd,
    _keys,
    _lint,
    _posture,
    _scan,
    _seal,
    _serve,
    _setup,
    _tenants,
    _token,
)

app = typer.Typer(
    name="callvault",
    help="Encryption by default for voice-AI call data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("init")(_setup.init)
app.command("seal")(_seal.seal)
app.command("open")(_seal.open_)
app.command("demo")(_demo.demo)
app.command("scan")(_scan.scan)
app.command("lint")(_lint.lint)
app.command("serve")(_serve.serve)
app.command("keyd")(_keyd.keyd)
app.command("token")(_token.token)
app.add_typer(_tenants.app, name="tenants")
app.add_typer(_keys.app, name="keys")
app.add_typer(_db.app, name="db")
app.command("erase")(_erasure.erase)
app.add_typer(_erasure.app, name="erasures")
app.add_typer(_audit.app, name="audit")
app.add_typer(_ca.app, name="ca")
app.add_typer(_egress.app, name="egress")
app.add_typer(_evidence.app, name="evidence")
app.add_typer(_backup.app, name="backup")
app.command("posture")(_posture.posture)
