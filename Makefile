# Builds everything from nothing: a pinned uv in .tools/, then the locked environment in .venv/.
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
# An empty PostgreSQL database for the benchmarks (they fill it with a million synthetic members).
BENCH_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/sipakainge_bench

.PHONY: demo test lint bench chat run clean

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python python3
	touch $@

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

demo: .venv/.synced  ## simulated demo on SQLite, no accounts needed
	.venv/bin/sipakainge demo

chat: .venv/.synced  ## talk to the bot in this terminal
	.venv/bin/sipakainge chat

run: .venv/.synced  ## the real bot (needs TELEGRAM_BOT_TOKEN)
	.venv/bin/sipakainge run

lint: .venv/.synced
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

test: lint  ## lint, types, and the whole suite on SQLite and PostgreSQL
	.venv/bin/pytest

bench: .venv/.synced  ## every benchmark (several minutes: a million members on SQLite and PostgreSQL)
	.venv/bin/python -m bench.dialog_latency
	.venv/bin/python -m bench.reminders scan --members 1000000
	.venv/bin/python -m bench.reminders scan --members 1000000 --database-url $(BENCH_PG_URL)
	.venv/bin/python -m bench.reminders rate --sends 3000 --limit 30
	.venv/bin/python -m bench.reminders rate --sends 3000 --limit 80 --channel whatsapp
	.venv/bin/python -m bench.digests --members 1000000 --officers 1000
	.venv/bin/python -m bench.digests --members 1000000 --officers 1000 --database-url $(BENCH_PG_URL)
	.venv/bin/python -m bench.admin import --rows 100000
	.venv/bin/python -m bench.admin import --rows 100000 --database-url $(BENCH_PG_URL)
	.venv/bin/python -m bench.admin stats --members 1000000
	.venv/bin/python -m bench.admin stats --members 1000000 --database-url $(BENCH_PG_URL)
	.venv/bin/python -m bench.webhooks --chats 200 --database-url $(BENCH_PG_URL)
	.venv/bin/python -m bench.scale_out --database-url $(BENCH_PG_URL)

clean:
	rm -rf .venv .tools data/demo.db*
