# myappctl — build, test and run targets. `make help` lists them.
GO        ?= go
BIN       := bin
DIST      := dist
LINUX_ENV := GOOS=linux GOARCH=amd64 CGO_ENABLED=0
LDFLAGS   := -s -w

.PHONY: help setup build cli artifacts test lint bench bench-up run-backend run-frontend run-local fakeaws clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: ## install and start what the full test suite needs (Chromium, MariaDB; Debian/Ubuntu, root or sudo)
	bash scripts/setup.sh

build: cli artifacts ## build the CLI and the linux/amd64 binaries it deploys

cli: ## build bin/myappctl for this machine
	$(GO) build -o $(BIN)/myappctl ./cmd/myappctl

artifacts: ## cross-build backend, frontend and the Lambda bootstrap into dist/linux-amd64
	@mkdir -p $(DIST)/linux-amd64
	$(LINUX_ENV) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DIST)/linux-amd64/myapp-backend ./backend
	$(LINUX_ENV) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DIST)/linux-amd64/myapp-frontend ./frontend
	$(LINUX_ENV) $(GO) build -trimpath -tags lambda.norpc -ldflags '$(LDFLAGS)' -o $(DIST)/linux-amd64/bootstrap ./lambda/syncs3

test: ## run every test; uses the local MariaDB of make setup when it answers (CI=true makes MySQL/browser tests mandatory)
	@if [ -z "$${TEST_MYSQL_DSN:-}" ] && mariadb -h127.0.0.1 -umyapp_test -pmyapp_test -e 'SELECT 1' test >/dev/null 2>&1; then \
		export TEST_MYSQL_DSN='myapp_test:myapp_test@tcp(127.0.0.1:3306)/test'; echo "test: MySQL tests use $$TEST_MYSQL_DSN (make setup)"; fi; \
	$(GO) test -count=1 -timeout 30m ./...

lint: ## go vet + gofmt check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench: ## backend benchmarks against MySQL (TEST_MYSQL_DSN) and SQLite
	$(GO) test -run '^$$' -bench . -benchmem ./backend/...

bench-up: ## a full up against the fake at 1/30 of AWS's readiness times: wall time, critical path, ratio, instances launched
	$(GO) test -count=1 -run '^$$' -bench '^BenchmarkUp$$' -benchtime 1x ./cmd/myappctl/

run-backend: ## run the todo API on :8080 (SQLite in backend/todo.db unless DBURL is set)
	SQLITE_PATH=$${SQLITE_PATH:-backend/todo.db} $(GO) run ./backend

run-frontend: ## run the page on :8081 pointing at the local API
	PORT=$${PORT:-8081} APIURL=$${APIURL:-http://localhost:8080} $(GO) run ./frontend

run-local: ## backend on :8080 + frontend on :8081, Ctrl-C stops both
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(GO) run ./backend & \
	PORT=8081 APIURL=http://localhost:8080 $(GO) run ./frontend & \
	echo "open http://localhost:8081"; wait

fakeaws: ## serve a fake AWS account on 127.0.0.1:4566 to try the CLI without one (PACE=10: waits you can watch)
	$(GO) run ./cmd/fakeaws -addr $${FAKEAWS_ADDR:-127.0.0.1:4566} -pace $${PACE:-1} -latency $${LATENCY:-0s}

clean: ## remove build output
	rm -rf $(BIN) $(DIST)
