r"""Prose with inline mathematics: the one notation of titles, justifications and notes.

A derivation's words are written as text with inline LaTeX between dollar
signs, as in a paper: ``"substitute $x = \mu + \sigma z$, $dx = \sigma\,dz$"``.
The math uses a small vocabulary (:data:`KNOWN_MACROS`) that every output can
show natively:

- the terminal gets Unicode (:func:`to_unicode`: ``x = μ + σz``),
- the PDF gets text-mode LaTeX (:func:`to_latex_text`: the math stays ``$...$``),
- a formula block (Jupyter, MathJax, GitHub's ``$$``) gets ``\text{...}`` with
  the math inside it (:func:`to_latex_in_math`), which MathJax 3 (with or
  without the ``textmacros`` package) and amsmath both read,
- Markdown prose keeps ``$...$`` (GitHub's inline math).

The text between the math is plain words; characters that mean something to
LaTeX (``_ ^ { } \ # % & ~``) belong inside the math. :func:`problems` lists
what breaks these rules; a test runs it over the whole registry.
"""

from __future__ import annotations

import re

__all__ = [
    "KNOWN_MACROS",
    "math_to_unicode",
    "problems",
    "segments",
    "to_latex_in_math",
    "to_latex_text",
    "to_plain",
    "to_unicode",
    "words_in_math",
]

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π",
    "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ",
    "Psi": "Ψ", "Omega": "Ω",
}  # fmt: skip
_SYMBOLS = {
    "infty": "∞", "to": "→", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠",
    "cdot": "·", "times": "×", "pm": "±", "sum": "Σ", "prod": "∏", "int": "∫", "partial": "∂",
    "sim": "~", "mid": " | ", "approx": "≈", "propto": "∝", "in": "∈", "ldots": "…", "dots": "…",
    "cdots": "⋯", "top": "ᵀ", "Rightarrow": "⇒", "mapsto": "↦", "equiv": "≡",
    "ll": "≪", "gg": "≫", "lvert": "|", "rvert": "|", "lVert": "‖", "rVert": "‖", "prime": "′",
    "quad": "  ", "qquad": "    ", "colon": ":", "neg": "¬", "land": "∧", "lor": "∨", "setminus": "∖",
    "emptyset": "∅", "forall": "∀", "exists": "∃", "circ": "∘", "ell": "ℓ", "langle": "⟨", "rangle": "⟩",
}  # fmt: skip
_NAMED = {"log", "exp", "det", "lim", "sinh", "cosh", "min", "max", "ln", "sup", "inf", "arg", "deg", "dim"}
# (No control space "\ ": MathJax expands it as a macro, and a macro followed by more than 5 KB of a formula
# stops MathJax with "internal buffer size exceeded"; \quad or \, instead. \iff and \implies likewise.)
_SPACES = {",": " ", ";": " ", ":": " ", "!": "", "{": "{", "}": "}", "|": "‖", "_": "_", "%": "%"}
_ONE_ARGUMENT = {"text", "mathrm", "operatorname", "mathbf", "boldsymbol", "mathit", "textrm", "mathsf"}
_ACCENTS = {"bar": "\u0304", "overline": "\u0304", "hat": "\u0302", "tilde": "\u0303", "dot": "\u0307"}
_FONTS = {"mathbb": {"E": "𝔼", "R": "ℝ", "N": "ℕ", "Z": "ℤ", "I": "𝕀", "P": "ℙ"}, "mathcal": {"N": "𝒩", "O": "𝒪"}}
# log σ, det L: an operator name directly followed by its argument gets a space (TeX adds a thin one).
_SPACE_AFTER_NAME = re.compile(r"\b(log|exp|det|ln|min|max|sinh|cosh)(?=[^\W\d_])")
_OPERATOR_NAMES = _NAMED | {"operatorname", "mathbb"}
_STRUCTURE = {"frac", "tfrac", "dfrac", "sqrt", "left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr"}

#: Every macro a title, justification or note may use in its math.
KNOWN_MACROS = frozenset(
    set(_GREEK) | set(_SYMBOLS) | _NAMED | _ONE_ARGUMENT | set(_ACCENTS) | set(_FONTS) | _STRUCTURE
)

_SUPERSCRIPT = dict(zip("0123456789+-−=()niTtkmx", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱᵀᵗᵏᵐˣ", strict=True))
_SUBSCRIPT = dict(zip("0123456789+-−=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
# Characters that mean something to LaTeX and must not appear in the words between the math.
_TEXT_SPECIALS = set("\\_^{}#%&~")
# A name from code or the registry (kf_update, moments.sample_variance_bias): its underscores are words, not math.
# (sigma_i or mu_X, with a one- or two-letter subscript, is mathematics and belongs in $...$.)
_IDENTIFIER = re.compile(r"\b[a-z]+\.[\w.]*\w|\b[A-Za-z]\w*_[A-Za-z]{3,}\w*")
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_]|\s+|.", re.DOTALL)


def segments(text: str) -> list[tuple[bool, str]]:
    r"""``text`` as (is math, content) pairs, split at the dollar signs.

    Examples
    --------
    >>> segments(r"substitute $x = \mu$ here")
    [(False, 'substitute '), (True, 'x = \\mu'), (False, ' here')]

    Raises
    ------
    ValueError
        When a dollar sign is not closed.
    """
    parts = text.split("$")
    if len(parts) % 2 == 0:
        raise ValueError(f"unbalanced $ in {text!r}")
    return [(index % 2 == 1, part) for index, part in enumerate(parts) if part]


# ----------------------------------------------------------------- Unicode
class _Parser:
    def __init__(self, latex: str) -> None:
        self.tokens = [token for token in _TOKEN.findall(latex)]
        self.index = 0

    def done(self) -> bool:
        return self.index >= len(self.tokens)

    def argument(self) -> str:
        """The next braced group or single token, converted."""
        while not self.done() and self.tokens[self.index].isspace():
            self.index += 1
        if self.done():
            raise ValueError("a macro is missing its argument")
        token = self.tokens[self.index]
        self.index += 1
        if token == "{":
            return self.until("}")
        return self.convert(token)

    def raw_argument(self) -> str:
        """The next braced group as source text (for \\text and friends)."""
        while not self.done() and self.tokens[self.index].isspace():
            self.index += 1
        if self.done() or self.tokens[self.index] != "{":
            return self.argument()
        depth, start = 0, self.index
        while not self.done():
            token = self.tokens[self.index]
            self.index += 1
            depth += token == "{"
            depth -= token == "}"
            if depth == 0:
                return "".join(self.tokens[start + 1 : self.index - 1])
        raise ValueError("unclosed {")

    def until(self, closing: str | None) -> str:
        out: list[str] = []
        while not self.done():
            token = self.tokens[self.index]
            self.index += 1
            if token == closing:
                return "".join(out)
            converted = self.convert(token)
            if token[1:] in _OPERATOR_NAMES and out and re.search(r"[\w)\]⁰¹²³⁴⁵⁶⁷⁸⁹]$", out[-1]):
                converted = " " + converted  # 2 Cov(X, Y), Var(X) Var(Y): an operator name after a factor
            out.append(converted)
        if closing is not None:
            raise ValueError("unclosed {")
        return "".join(out)

    def convert(self, token: str) -> str:
        if token == "{":
            return self.until("}")
        if token == "}":
            raise ValueError("unmatched }")
        if token in ("^", "_"):
            return _script(self.argument(), _SUPERSCRIPT if token == "^" else _SUBSCRIPT, token)
        if token.isspace():
            return " "
        if token == "-":
            return "−"
        if token == "'":
            return "′"
        if not token.startswith("\\"):
            return token
        return self.macro(token[1:])

    def macro(self, name: str) -> str:
        if len(name) == 1 and not name.isalpha():
            if name not in _SPACES:
                raise ValueError(f"unknown macro \\{name}")
            return _SPACES[name]
        if name in _GREEK:
            return _GREEK[name]
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        if name in _NAMED:
            return name
        if name in _ONE_ARGUMENT:
            inner = self.raw_argument()
            return inner if name in ("text", "textrm") else _Parser(inner).until(None)
        if name in _ACCENTS:
            return self.argument() + _ACCENTS[name]
        if name in _FONTS:
            letter = self.argument()
            return _FONTS[name].get(letter, letter)
        if name in ("frac", "tfrac", "dfrac"):
            numerator, denominator = self.argument(), self.argument()
            return f"{_wrap(numerator)}/{_wrap(denominator, strict=True)}"
        if name == "sqrt":
            radicand = self.argument().strip()
            simple = re.fullmatch(r"(\w|\d+)[₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ]*", radicand)
            return "√" + (radicand if simple else f"({radicand})")
        if name in ("left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr"):
            return "" if self.done() else self.delimiter()
        raise ValueError(f"unknown macro \\{name}")

    def delimiter(self) -> str:
        token = self.tokens[self.index]
        self.index += 1
        if token == ".":
            return ""
        return self.convert(token)


def _wrap(text: str, *, strict: bool = False) -> str:
    """``text`` in parentheses when it is more than one factor (``a + b`` → ``(a + b)``)."""
    plain = text.strip()
    if len(plain) <= 1 or re.fullmatch(r"[\w.]+[⁰¹²³⁴⁵⁶⁷⁸⁹ᵀ₀₁₂₃₄₅₆₇₈₉]*", plain):
        return plain
    if plain.startswith("(") and plain.endswith(")") and plain.count("(") == 1:
        return plain
    operators = (" ", "+", "−", "/") if strict else (" + ", " − ", " ")
    needs = any(op in plain for op in operators)
    return f"({plain})" if needs else plain


def _script(argument: str, table: dict[str, str], mark: str) -> str:
    if argument and all(char in table for char in argument):
        return "".join(table[char] for char in argument)
    if argument == "ᵀ" or (mark == "^" and argument in ("′", "″", "*")):
        return argument
    if mark == "^" and argument.startswith("−") and argument[1:] == "ᵀ":
        return "⁻ᵀ"
    return f"{mark}{argument}" if len(argument) == 1 else f"{mark}({argument})"


def math_to_unicode(latex: str) -> str:
    r"""One inline formula as Unicode text.

    Examples
    --------
    >>> math_to_unicode(r"\sqrt{\sigma_i^2} = \sigma_i")
    '√(σᵢ²) = σᵢ'
    >>> math_to_unicode(r"\frac{x - \mu}{\sigma}")
    '(x − μ)/σ'
    >>> math_to_unicode(r"K = P H^\top S^{-1}")
    'K = P Hᵀ S⁻¹'

    Raises
    ------
    ValueError
        For a macro outside :data:`KNOWN_MACROS` or unbalanced braces.
    """
    text = re.sub(r"  +", " ", _Parser(latex).until(None))
    return _SPACE_AFTER_NAME.sub(r"\1 ", text)


def to_unicode(text: str) -> str:
    r"""Prose with ``$...$`` math as Unicode text for the terminal.

    Examples
    --------
    >>> to_unicode(r"the mean of $\mathcal{N}(\mu, \sigma^2)$ is $\mu$")
    'the mean of 𝒩(μ, σ²) is μ'
    """
    return "".join(math_to_unicode(part) if is_math else part for is_math, part in segments(text))


def to_plain(text: str) -> str:
    """Alias of :func:`to_unicode` for places that want no markup at all (figure captions, PDF bookmarks)."""
    return to_unicode(text)


# ------------------------------------------------------------------- LaTeX
_TEXT_ESCAPE = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
    "|": r"\textbar{}",
}  # fmt: skip
# In a formula, a character that is special in text is set as math, where both MathJax and LaTeX know it.
_IN_MATH_ESCAPE = {
    "\\": r"$\backslash$", "&": r"$\&$", "%": r"$\%$", "#": r"$\#$", "_": r"$\_$", "{": r"$\{$", "}": r"$\}$",
    "~": r"$\sim$", "^": r"$\hat{}$", "<": "$<$", ">": "$>$", "|": "$|$",
}  # fmt: skip


def to_latex_text(text: str) -> str:
    r"""Prose for LaTeX text mode (a paragraph, ``\tag*``, ``\intertext``): words escaped, math kept.

    Examples
    --------
    >>> to_latex_text(r"50% of $x_i$ & more")
    '50\\% of $x_i$ \\& more'
    """
    return "".join(
        f"${part}$" if is_math else "".join(_TEXT_ESCAPE.get(char, char) for char in part)
        for is_math, part in segments(text)
    )


def to_latex_in_math(text: str) -> str:
    r"""Prose inside a formula: ``\text{...}`` with the math in ``$...$`` inside it.

    MathJax 3 (with or without ``textmacros``) and amsmath both set the inner
    ``$...$`` as inline math.

    Examples
    --------
    >>> to_latex_in_math(r"substitute $x = \mu + \sigma z$")
    '\\text{substitute $x = \\mu + \\sigma z$}'
    """
    body = "".join(f"${part}$" if is_math else words_in_math(part) for is_math, part in segments(text))
    return rf"\text{{{body}}}"


def words_in_math(words: str) -> str:
    r"""Plain words (a name such as ``kf_update``) for ``\text{...}`` or ``\textbf{...}`` inside a formula.

    Examples
    --------
    >>> words_in_math("kf_update")
    'kf$\\_$update'
    """
    return "".join(_IN_MATH_ESCAPE.get(char, char) for char in words)


# ---------------------------------------------------------------- checking
def problems(text: str) -> list[str]:
    r"""What keeps ``text`` from reading as mathematics in every output (empty when nothing).

    Examples
    --------
    >>> problems(r"sqrt(sigma_i^2) = $\sigma_i$")
    ["special character(s) ^_ in the words 'sqrt(sigma_i^2) = ' (put the mathematics in $...$)"]
    >>> problems(r"$\foo x$")
    ['$\\foo x$: unknown macro \\foo']
    """
    try:
        parts = segments(text)
    except ValueError as error:
        return [str(error)]
    found = []
    for is_math, part in parts:
        if is_math:
            try:
                math_to_unicode(part)
            except ValueError as error:
                found.append(f"${part}$: {error}")
        else:
            special = sorted(set(_IDENTIFIER.sub("", part)) & _TEXT_SPECIALS)
            if special:
                found.append(
                    f"special character(s) {''.join(special)} in the words {part!r} (put the mathematics in $...$)"
                )
    return found
