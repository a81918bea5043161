# The two commands of the README: `make run` and `make test`. Each installs what is missing first.
.PHONY: run test lint lock stop clean demo soak

PYTHON := .venv/bin/python

run:
	@scripts/bootstrap.sh base
	@scripts/run.sh

test:
	@scripts/bootstrap.sh test
	@scripts/test.sh

# Load the Qijiang demo bundle and demo users into the local database (make run does this too).
demo:
	@scripts/bootstrap.sh base
	@scripts/services.sh start
	@DATABASE_URL=$$(scripts/services.sh owner-url) $(PYTHON) manage.py migrate --noinput -v 0
	@$(PYTHON) manage.py load_demo

# Register clues at a fixed rate against a running server (`make run` in another terminal) and print the
# figures: make soak [SOAK_ARGS="--rate 50 --seconds 30 --url http://127.0.0.1:8000"]
soak:
	@python3 scripts/soak.py $(SOAK_ARGS)

lint:
	@scripts/bootstrap.sh test
	@.venv-test/bin/ruff check .
	@.venv-test/bin/ruff format --check .

# Rewrite the locks (requirements/*.txt, pinned with hashes) after editing requirements/*.in.
lock:
	@scripts/lock.sh

stop:
	@scripts/services.sh stop

clean: stop
	rm -rf .venv .venv-test .local "$$(scripts/services.sh state-dir)"
