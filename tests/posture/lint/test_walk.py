"""What the walk reads and skips, on a tree the size of a real deployment repository."""

from __future__ import annotations

from pathlib import Path

from callvault.posture.lint import lint_path

_SECRET_LINE = 'password = "n0t-a-real-but-planted-pw"\n'


def _tree(root: Path, files: int) -> None:
    for i in range(files):
        d = root / f"svc{i % 40}" / "config"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"app{i}.yaml").write_text(
            f"name: svc{i}\nreplicas: 3\nimage: ghcr.io/acme/svc{i}:1.0\nport: {8000 + i}\n"
            "resources:\n  cpu: 250m\n  memory: 256Mi\n" * 4
        )


def test_large_tree_is_linted_and_skips_what_it_must(tmp_path: Path) -> None:
    _tree(tmp_path, 3000)
    for skipped in (".git", "node_modules", ".venv"):
        (tmp_path / skipped).mkdir(exist_ok=True)
        (tmp_path / skipped / "config.py").write_text(_SECRET_LINE)
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2" + _SECRET_LINE.encode())
    (tmp_path / "huge.py").write_text(_SECRET_LINE + "#" * (1024 * 1024))
    (tmp_path / "link.py").symlink_to(tmp_path / ".git" / "config.py")
    (tmp_path / "real.py").write_text(_SECRET_LINE)
    report = lint_path(tmp_path)
    assert report.files_scanned == 3001
    assert [(f.check, f.file) for f in report.findings] == [("secret.hardcoded", "real.py")]


def test_excludes_and_single_file(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "x.py").write_text(_SECRET_LINE)
    (tmp_path / "y.py").write_text(_SECRET_LINE)
    assert {f.file for f in lint_path(tmp_path).findings} == {"vendor/x.py", "y.py"}
    assert {f.file for f in lint_path(tmp_path, excludes=["vendor/*"]).findings} == {"y.py"}
    [finding] = lint_path(tmp_path / "y.py").findings
    assert finding.file == "y.py" and finding.line == 1
