"""Compile the pipeline's hot modules with mypyc, beside their sources (``make`` runs this).

    python tools/build_native.py            # build, or say why not and leave the sources be
    python tools/build_native.py --clean    # remove the build: the sources run

Which modules, and how a process decides to use them, is ``declarations/_native.py``. Without
mypyc, a C compiler or Python's headers this says so and exits 0: everything works on the
sources, only slower. A build that starts and fails exits 1 with the compiler's output.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
GROUP = "danchuang_native"  # mypyc's shared library: danchuang_native__mypyc<suffix>
WORK_DIR = REPO / "build" / "mypyc"  # the generated C and the object files


def _load_native() -> ModuleType:
    """``declarations/_native.py`` alone: importing the package would load the extension
    modules this is about to replace."""
    spec = importlib.util.spec_from_file_location(
        "_danchuang_native_build", REPO / "declarations" / "_native.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


native = _load_native()
SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))


def extension_of(module: str) -> Path:
    source: Path = native.source_of(module)
    return source.with_name(source.stem + SUFFIX)


def built_files() -> list[Path]:
    return [REPO / f"{GROUP}__mypyc{SUFFIX}", *(extension_of(m) for m in native.COMPILED)]


def missing_tools() -> str | None:
    """Why this machine cannot build, or None."""
    if importlib.util.find_spec("mypyc") is None:
        return "mypyc is not installed (it comes with mypy: pip install -e '.[native]')"
    compiler = shlex.split(str(sysconfig.get_config_var("CC") or "cc"))[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler}; on Debian: apt-get install gcc)"
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not headers.is_file():
        return f"Python's headers are missing ({headers}; on Debian: apt-get install python3-dev)"
    return None


def clean() -> None:
    native.MANIFEST.unlink(missing_ok=True)  # first: a half-removed build never looks current
    for path in built_files():
        path.unlink(missing_ok=True)


def compile_in_place(paths: list[str]) -> None:
    """The build itself, in a child process (see main): setuptools drives the compiler."""
    from mypyc.build import mypycify  # noqa: PLC0415 - only here, and only when present
    from setuptools import setup  # noqa: PLC0415

    setup(
        name="danchuang-native",
        packages=[],
        py_modules=[],
        ext_modules=mypycify(paths, opt_level="3", target_dir=str(WORK_DIR), group_name=GROUP),
        script_args=["build_ext", "--inplace", "--build-temp", str(WORK_DIR / "temp")],
    )


def build() -> int:
    why_not = missing_tools()
    if why_not is not None:
        print(f"native build skipped: {why_not}; the sources run as they are", file=sys.stderr)
        return 0
    if native.build_state().compiled:
        native.MANIFEST.touch()  # (for make: the build is as new as its sources)
        return 0
    clean()
    sources = {m: native.digest(native.source_of(m)) for m in native.COMPILED}  # before: an
    # edit made while the compiler runs then leaves the build stale, not wrongly current
    paths = [str(native.source_of(m).relative_to(REPO)) for m in native.COMPILED]
    print(f"compiling {len(paths)} modules with mypyc (about half a minute)...", file=sys.stderr)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, __file__, "--compile", *paths],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    missing = [p for p in built_files() if not p.is_file()]
    if result.returncode != 0 or missing:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-8000:])
        print(f"native build failed (exit {result.returncode})", file=sys.stderr)
        clean()
        return 1
    from mypy.version import __version__ as mypy_version  # noqa: PLC0415

    native.MANIFEST.write_text(
        json.dumps(
            {
                "cache_tag": sys.implementation.cache_tag,
                "mypy": mypy_version,
                "library": f"{GROUP}__mypyc",
                "files": [str(p.relative_to(REPO)) for p in built_files()],
                "sources": sources,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"compiled in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", action="store_true", help="remove the build")
    parser.add_argument("--compile", nargs="+", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compile:
        compile_in_place(args.compile)
        return 0
    if args.clean:
        clean()
        return 0
    return build()


if __name__ == "__main__":
    sys.exit(main())
