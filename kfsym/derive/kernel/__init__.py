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

What "proved" means, precisely. A statement is proved when its method reduces
it to zero *exactly*, under the declared symbol assumptions, the stated
``where`` definitions and the stated ``given`` hypotheses (shown with every
derivation). Conventions inherited from SymPy's automatic evaluation are
accepted as such: identities between rational functions hold where both
sides are defined (``x/x`` is ``1``), ``0**0`` is ``1``, and integrals, sums,
limits and derivatives are evaluated by SymPy's ``doit`` (where a step says it
evaluates them). A matrix identity checked for listed sizes holds for those
sizes only, and the output says so. Anything a method cannot decide is
refused, never accepted.
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
