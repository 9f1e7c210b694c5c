"""kfsym: the probability behind the Kalman filter, proved with SymPy and shipped as NumPy.

- :mod:`kfsym.derive` — derivations whose every step SymPy checks;
- :mod:`kfsym.numeric` — validated, broadcasting NumPy functions generated
  from the proved results (imports NumPy only);
- ``kfsym`` command line — ``list``, ``show``, ``prove``, ``codegen``, ``render``.

Importing :mod:`kfsym` itself is cheap: it loads neither SymPy nor NumPy.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
