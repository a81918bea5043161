# The two commands of the README: `make run` and `make test`. Each installs what is missing first.
.PHONY: run test bench lint lock stop clean demo soak fuzz

PYTHON := .venv/bin/python

run:
	@scripts/bootstrap.sh base
	@scripts/run.sh

test:
	@scripts/bootstrap.sh test
	@scripts/test.sh

# Measure the hot paths at municipal scale against their baselines (issue 10): a database of its own
# (rivers_bench), seeded data, a printed table and benchmarks/results/latest.json. Scale knobs: see scripts/bench.sh.
bench:
	@scripts/bootstrap.sh test
	@scripts/bench.sh $(BENCH_ARGS)

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

# Fuzz the API from its OpenAPI schema (schemathesis), longer and randomised; `make test` runs a short,
# fixed run. Prints the number of cases and of server errors. FUZZ_MAX_EXAMPLES: cases per operation and mode.
fuzz:
	@scripts/bootstrap.sh test
	@scripts/services.sh start
	@DJANGO_SETTINGS_MODULE=config.settings.test FUZZ_RANDOM=1 FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-50} \
		.venv-test/bin/pytest tests/test_fuzz.py -q -p no:cacheprovider

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
