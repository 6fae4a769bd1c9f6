"""``import tfformats`` is cheap and has no side effects.

It reads no data file, opens no socket, starts no process and loads none of the
runtime dependencies (numpy, protobuf, crc32c, snappy, ml_dtypes): those load
on first use.  (How long the import takes is measured by the benchmarks, not
asserted here.)
"""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = r"""
import json, sys
events = []
WATCH = ("open", "socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.fork",
         "urllib.", "http.", "ctypes.dlopen", "mmap.")
def hook(name, args):
    if name.startswith(WATCH):
        events.append([name, repr(args)[:200]])
sys.addaudithook(hook)
before = set(sys.modules)
import tfformats
dir(tfformats)
tfformats.__version__
new = sorted(set(sys.modules) - before)
print(json.dumps({"events": events, "modules": new}))
"""


def _probe():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_does_no_file_or_network_work():
    found = _probe()
    other = []
    for name, args in found["events"]:
        if name == "open":
            path = args.split(",")[0].strip("('\"")
            if path.endswith((".py", ".pyc")):  # the package's own modules
                continue
        other.append((name, args))
    assert not other, other


def test_import_loads_no_runtime_dependency():
    mods = _probe()["modules"]
    heavy = [m for m in mods if m.split(".")[0] in ("numpy", "google", "crc32c", "snappy", "ml_dtypes", "tensorflow")]
    assert not heavy, heavy
    assert set(m for m in mods if m.startswith("tfformats")) == {"tfformats", "tfformats.errors"}
