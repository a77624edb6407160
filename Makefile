# Two commands set everything up on a fresh clone (only Python >= 3.11 and make needed):
#   make lab    create .venv if missing, install the pinned set, copy the labs into work/ (once), open JupyterLab
#   make test   the same set-up, then every test and every notebook (strict nbval)
#   make quiz   the phase quiz in the terminal;  make check   am I done with Phase 15?
# and for maintainers: make notebooks (refresh stored outputs and the committed heatmap), make lint, make lock
#   make site   the book in English and Spanish, built from the executed notebooks into _site/en/ and _site/es/
#   make site-test   its browser test;  make translations   refresh locales/es/ after an English edit

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Re-install only when the dependency declarations change.
STAMP  := $(VENV)/.installed

.PHONY: setup lab test quiz check lint notebooks heatmap lock clean site site-test translations

setup: $(STAMP)

$(STAMP): pyproject.toml requirements-lock.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "minimodel needs Python >= 3.11; $(PYTHON) is " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements-lock.txt -e '.[dev,book]'
	@touch $@

# Creates work/ with your copies of the labs (never overwritten), opens on the first chapter;
# .md chapters open as notebooks (see tools/lab.py).
lab: $(STAMP)
	$(BIN)/python tools/lab.py

test: $(STAMP)
	$(BIN)/python -m pytest

# The phase quiz in the terminal, and the Definition of Done as a checklist (exit 0 when all holds).
quiz: $(STAMP)
	$(BIN)/minimodel quiz 15

check: $(STAMP)
	$(BIN)/minimodel check 15

# Re-execute notebooks in place after a library change: make notebooks [NB="theory/02-scaled-dot-product.md ..."]
notebooks: heatmap
	$(BIN)/python tools/execute_notebooks.py $(NB)

# The committed heatmap of the canonical sequence (lab/figures/), guarded by tests/test_committed_heatmap.py.
heatmap: $(STAMP)
	$(BIN)/python tools/save_heatmap.py

lint: $(STAMP)
	$(BIN)/ruff check .

# The book: the committed notebooks as they are (never re-executed), strict (-W, nitpicky: any warning
# or broken link fails), fresh every time (-E). Its browser assets come from npm, pinned by book/package-lock.json.
NPM_STAMP := book/node_modules/.installed

$(NPM_STAMP): book/package.json book/package-lock.json
	cd book && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# Each edition is built fresh (-E) from its own doctrees; the Spanish one reads locales/es/.
site: $(STAMP) $(NPM_STAMP)
	rm -rf _site/en _site/es build/book
	mkdir -p build/book
	$(BIN)/python -m sphinx -b html -E -W --keep-going -n -q -d build/book-doctrees/en -c book build/book _site/en
	$(BIN)/python -m sphinx -b html -E -W --keep-going -n -q -d build/book-doctrees/es -c book -D language=es build/book _site/es
	@echo "the book: _site/en/index.html and _site/es/index.html"

# After an English edit: re-extract the messages and merge them into locales/es/LC_MESSAGES/.
# Changed messages come back fuzzy (with the old English), new ones empty; it lists both.
translations: $(STAMP)
	$(BIN)/python tools/translations.py update

# Serves _site/ on 127.0.0.1 and opens every page in Chromium with every other host blocked.
site-test: $(STAMP)
	MINIMODEL_BOOK_TESTS=1 MINIMODEL_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/browser/test_book.py

# Re-pin after changing dependencies: writes the exact versions now installed in .venv.
lock: $(STAMP)
	{ sed -n '1,3p' requirements-lock.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^minimodel'; } > requirements-lock.txt.new
	mv requirements-lock.txt.new requirements-lock.txt

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache src/*.egg-info _site build/book build/book-doctrees book/node_modules
