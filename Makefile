# kfsym — the two commands of the README: `make run` (main job) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kfsym-installed

.PHONY: run test lint prove codegen render clean docs mutate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,bench,fast,dask,jax]'
	touch $(STAMP)

## run: create the venv, install, prove every derivation, render them (and the PDF when LaTeX is installed)
run: $(STAMP)
	$(BIN)/kfsym prove
	@$(MAKE) --no-print-directory render

## render: derivations/ as LaTeX, Markdown and figures, plus kfsym.pdf when latexmk and pdflatex are installed
## (without them `kfsym render` says, in one line, what to install for the PDF)
render: $(STAMP)
	@if command -v latexmk >/dev/null 2>&1 && command -v pdflatex >/dev/null 2>&1; then \
		$(BIN)/kfsym render --pdf; \
	else \
		$(BIN)/kfsym render; \
	fi

## test: the whole test suite (proofs, mutants, numerics, references, CLI, drift)
test: $(STAMP)
	$(BIN)/python -m pytest

DOCS_STAMP := $(VENV)/.kfsym-docs-installed
$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

## docs: the documentation site into docs/_build/html (executes the tutorials; warnings are errors)
docs: $(DOCS_STAMP)
	rm -rf docs/_generated
	$(BIN)/python -m sphinx -E -W --keep-going -b html docs docs/_build/html
	@echo "site: docs/_build/html/index.html"

MUTATE_STAMP := $(VENV)/.kfsym-mutate-installed
$(MUTATE_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,mutate]'
	touch $(MUTATE_STAMP)

## mutate: mutation testing (mutmut) of the prover's kernel, the numerics and the CLI; the score per part
## (scope and the module -> tests mapping: [tool.mutmut] in pyproject.toml and mutation/README.md; MUTATE_JOBS=2 workers)
MUTATE_JOBS ?= 2
MUTATE_NICE ?= 10
mutate: $(MUTATE_STAMP)
	rm -rf mutants
	@date -u +"mutmut started %H:%M:%S UTC"
	PATH="$(abspath $(BIN)):$$PATH" nice -n $(MUTATE_NICE) $(BIN)/python mutation/run.py run --max-children $(MUTATE_JOBS) > mutants.log 2>&1 \
		|| { tail -c 3000 mutants.log; exit 1; }
	@date -u +"mutmut finished %H:%M:%S UTC"
	$(BIN)/python mutation/score.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict kfsym

codegen: $(STAMP)
	$(BIN)/kfsym codegen

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants mutants.log
