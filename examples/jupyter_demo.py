# ruff: noqa: E402  (a notebook: each cell imports what it uses)
# %% [markdown]
# # kfsym in Jupyter
#
# A `Derivation` displays as rendered math in Jupyter: its title, the assumptions,
# the hypotheses it is given, every step with its justification, and the notes
# (`_repr_markdown_`, which JupyterLab prefers, and `_repr_latex_`, one MathJax
# formula), so looking one up is a one-liner. Open this file as a notebook
# (Jupytext, VS Code and PyCharm read the `# %%` cells), or run it as a script:
# `python examples/jupyter_demo.py` prints the LaTeX that Jupyter would render.

# %%
from kfsym.derive import get

get("gaussian.product")  # in Jupyter: the proof of the measurement update, as math

# %%
try:
    from IPython.display import display
except ImportError:  # plain Python: show what Jupyter would render

    def display(*objects: object) -> None:
        for item in objects:
            latex = getattr(item, "_repr_latex_", None)
            print(latex() if latex is not None else item)


product = get("gaussian.product")
display(product)
print(product.verify().steps, "steps re-checked by SymPy")

# %%
# The figures draw into inline axes in a notebook; each function returns its Axes.
import matplotlib.pyplot as plt

from kfsym import plot

ax = plot.update()  # prior N(0, 2) x measurement N(10, 2) -> posterior N(5, 1)
print(ax.get_title())
plt.close(ax.figure)
