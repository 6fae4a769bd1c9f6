"""CRC32C (Castagnoli) and TensorFlow's CRC masking.

The CRC itself comes from the ``crc32c`` package (hardware instructions where
the CPU has them).  TensorFlow stores *masked* CRCs next to data that may itself
contain CRCs: rotate right by 15 bits, then add a constant.
"""

from __future__ import annotations

import sys


def _load_crc32c():
    # The crc32c package's __init__ reads its own version through
    # importlib.metadata, which costs more than the rest of opening a small
    # checkpoint.  Load its compiled module directly when we can; fall back to
    # the normal import otherwise.  (If the package is imported later, Python
    # reuses the module registered here.)
    mod = sys.modules.get("crc32c._crc32c")
    if mod is None and "crc32c" not in sys.modules:
        try:
            import importlib.machinery
            import importlib.util
            import os

            spec = importlib.util.find_spec("crc32c")
            for folder in spec.submodule_search_locations or ():
                for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                    path = os.path.join(folder, "_crc32c" + suffix)
                    if os.path.exists(path):
                        ext_spec = importlib.util.spec_from_file_location("crc32c._crc32c", path)
                        mod = importlib.util.module_from_spec(ext_spec)
                        ext_spec.loader.exec_module(mod)
                        sys.modules["crc32c._crc32c"] = mod
                        break
                if mod is not None:
                    break
        except Exception:
            mod = None
    if mod is None:
        from crc32c import crc32c as fn

        return fn
    return mod.crc32c


_crc32c = _load_crc32c()

_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF


def value(data, crc: int = 0) -> int:
    """CRC32C of ``data`` (any buffer), continuing from ``crc``."""
    return _crc32c(data, crc)


def extend(crc: int, data) -> int:
    """Continue a running CRC32C over ``data``."""
    return _crc32c(data, crc)


def mask(crc: int) -> int:
    """The masked form TensorFlow stores on disk."""
    return ((((crc >> 15) | (crc << 17)) & _U32) + _MASK_DELTA) & _U32


def unmask(masked: int) -> int:
    """Invert :func:`mask`."""
    rot = (masked - _MASK_DELTA) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32


def masked_value(data, crc: int = 0) -> int:
    """``mask(value(data))``: the form found in record and block trailers."""
    return mask(_crc32c(data, crc))
