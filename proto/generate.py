"""Generate the Python code of the event contracts: proto/prt/** -> generated/prt/**.

    .venv/bin/python proto/generate.py           # regenerate generated/prt
    .venv/bin/python proto/generate.py --check   # exit 1 naming the stale files if out of date

Runs grpcio-tools' protoc (``python -m grpc_tools.protoc``) with this interpreter, producing
``*_pb2.py`` and ``*_pb2.pyi`` plus the package files (``__init__.py``, ``py.typed``). The import
package is ``prt`` (the project maps it to ``generated/prt``), so the modules import each other as
``from prt.v1 import common_pb2``. The output depends only on the .proto files and the pinned
grpcio-tools/protobuf versions: the same input gives the same bytes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata, resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "generated"
PACKAGE = "prt"  # generated/prt is wholly owned by this script

INIT_TEXT = '"""Generated from proto/ by proto/generate.py. Do not edit."""\n'


def proto_files() -> list[str]:
    """The contract's .proto files, relative to proto/, in a fixed order."""
    found = (PROTO_DIR / PACKAGE).rglob("*.proto")
    return sorted(path.relative_to(PROTO_DIR).as_posix() for path in found)


def generate(out: Path) -> None:
    """Write the generated package into ``out`` (``out/prt/...``)."""
    try:
        well_known = resources.files("grpc_tools") / "_proto"
    except ModuleNotFoundError:
        sys.exit(
            f"generate.py: grpc_tools is not importable from {sys.executable}; "
            "run it with the project's interpreter: .venv/bin/python proto/generate.py"
        )
    files = proto_files()
    if not files:
        sys.exit(f"generate.py: no .proto files under {PROTO_DIR / PACKAGE}")
    command = [
        sys.executable, "-m", "grpc_tools.protoc",
        f"-I{PROTO_DIR}", f"-I{well_known}",
        f"--python_out={out}", f"--pyi_out={out}",
        *files,
    ]  # fmt: skip
    result = subprocess.run(command, cwd=PROTO_DIR, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"generate.py: protoc failed ({result.returncode}):\n{result.stderr}")
    package_root = out / PACKAGE
    for directory in [package_root, *(p for p in package_root.rglob("*") if p.is_dir())]:
        (directory / "__init__.py").write_text(INIT_TEXT, encoding="utf-8")
    (package_root / "py.typed").write_text("", encoding="utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the generated package under ``root``, by path relative to ``root``."""
    package_root = root / PACKAGE
    if not package_root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(package_root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def differences(expected: dict[str, bytes], actual: dict[str, bytes]) -> list[tuple[str, str]]:
    """(what is wrong, path under generated/) for each file of ``actual`` not as ``expected``."""
    found = []
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            found.append(("missing", name))
        elif name not in expected:
            found.append(("unexpected", name))
        elif expected[name] != actual[name]:
            found.append(("outdated", name))
    return found


def write(expected: dict[str, bytes]) -> list[tuple[str, str]]:
    """Replace generated/prt with exactly ``expected``; return what differed before."""
    before = differences(expected, snapshot(OUT_DIR))
    shutil.rmtree(OUT_DIR / PACKAGE, ignore_errors=True)
    for name, content in expected.items():
        target = OUT_DIR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate generated/prt from proto/.")
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary directory and fail if generated/ differs",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="prt-generate-") as tmp:
        generate(Path(tmp))
        expected = snapshot(Path(tmp))

    if args.check:
        stale = differences(expected, snapshot(OUT_DIR))
        if stale:
            listing = "\n".join(f"  {what:<10} generated/{name}" for what, name in stale)
            print(
                f"generated/ is out of date with proto/:\n{listing}\n"
                "Regenerate with: .venv/bin/python proto/generate.py "
                f"(this check used grpcio-tools {metadata.version('grpcio-tools')})",
                file=sys.stderr,
            )
            return 1
        print(f"generated/ is up to date ({len(expected)} files).")
        return 0

    changed = write(expected)
    for what, name in changed:
        print(f"{'removed' if what == 'unexpected' else 'wrote':<8} generated/{name}")
    if not changed:
        print("generated/ was already up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
