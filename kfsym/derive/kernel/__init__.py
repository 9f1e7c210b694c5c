"""The trusted kernel: the only code that can say "proved".

It imports nothing but SymPy, mpmath and itself (a test enforces this): topic
modules build statements and ask it, printers and code generation only read
what it checked. Its parts, each small enough to audit in one sitting:

- :mod:`.admit`: what may enter a statement (no strings, no floats);
- :mod:`.timelimit`: the time limit around every check;
- :mod:`.checks`: the equality and inequality methods;
- :mod:`.linalg`, :mod:`.operators`: matrices, sums and expectations;
- :mod:`.cases`: exhaustive case splits;
- :mod:`.falsify`: the numeric falsifier that can veto an accepted step;
- :mod:`.proof`: steps, statements and chains.
"""

from kfsym.derive.kernel.cases import Case
from kfsym.derive.kernel.checks import EQUALITY_METHODS, INEQUALITY_METHODS, residual
from kfsym.derive.kernel.errors import ProofError
from kfsym.derive.kernel.operators import Expectation
from kfsym.derive.kernel.proof import (
    DEFAULT_TIMEOUT,
    ProofReport,
    Step,
    check_statement,
    definitions_of,
    prove_equal,
    prove_nonnegative,
    verify_chain,
)
from kfsym.derive.kernel.timelimit import CheckTimeout, run_with_time_limit

__all__ = [
    "DEFAULT_TIMEOUT",
    "EQUALITY_METHODS",
    "INEQUALITY_METHODS",
    "Case",
    "CheckTimeout",
    "Expectation",
    "ProofError",
    "ProofReport",
    "Step",
    "check_statement",
    "definitions_of",
    "prove_equal",
    "prove_nonnegative",
    "residual",
    "run_with_time_limit",
    "verify_chain",
]
