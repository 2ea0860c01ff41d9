"""Point the ROS wheels' cmake exports at this venv's Python and numpy headers.

The PyPI ROS 2 wheels were built under /opt/python/cp311-cp311 and some of
their installed ``share/*/cmake/*.cmake`` files still name include paths there.
CMake refuses imported targets whose include directories do not exist, so
``rosidl_generate_interfaces`` fails until the paths are rewritten. Idempotent.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import numpy

BUILD_PREFIX = "/opt/python/cp311-cp311"


def main() -> int:
    venv = Path(sys.prefix)
    python_include = sysconfig.get_paths()["include"]
    numpy_include = numpy.get_include()
    site = sysconfig.get_paths()["purelib"]
    replacements = [
        (f"{BUILD_PREFIX}/lib/python3.11/site-packages/numpy/_core/include", numpy_include),
        (f"{BUILD_PREFIX}/include/python3.11", python_include),
        (f"{BUILD_PREFIX}/lib/python3.11/site-packages", site),
        (BUILD_PREFIX, str(venv)),
    ]
    changed = 0
    for path in (venv / "share").rglob("*.cmake"):
        text = path.read_text(errors="surrogateescape")
        if BUILD_PREFIX not in text:
            continue
        for old, new in replacements:
            text = text.replace(old, new)
        path.write_text(text, errors="surrogateescape")
        changed += 1
    print(f"fix_cmake_paths: rewrote {changed} cmake file(s) under {venv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
