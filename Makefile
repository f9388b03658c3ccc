# logout-all: the usual targets. Docker targets need Docker Compose v2.
COMPOSE     := docker compose -f docker-compose.yml
COMPOSE_DEV := docker compose -f docker-compose.yml -f docker-compose.dev.yml

# Docker targets check for Compose v2 first: without it, `docker compose -f` fails with
# "unknown shorthand flag" and the old target had already written .env.
define need-compose
	@docker compose version >/dev/null 2>&1 || { \
	  echo "Docker Compose v2 is needed: install Docker Desktop, or Docker Engine with the compose plugin"; \
	  echo "(Debian/Ubuntu: apt-get install docker-compose-plugin; see https://docs.docker.com/compose/install/)."; \
	  echo "Without Docker: set MONGODB_URI (and REDIS_URL) and run npm start, or npm run dev for the embedded stand-ins."; \
	  exit 1; }
endef

# Compose refuses to start without JWT_SECRET. The first `make backend` writes a
# random one to .env (git-ignored) so that it survives restarts; edit it there.
.env:
	@echo "JWT_SECRET=$$(node -e "console.log(require('crypto').randomBytes(32).toString('hex'))")" > .env
	@echo "wrote a random JWT_SECRET to .env"

.PHONY: help install dev test lint typecheck build start schema codegen check \
        backend logs stop restart dev-docker dev-logs dev-stop compose-config ferretdb ferretdb-stop clean ci bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

install: ## Install dependencies from the lockfile
	npm ci

dev: ## Run the server locally with reload (embedded MongoDB and Redis stand-ins unless MONGODB_URI/REDIS_URL are set)
	npm run dev

test: ## Run the tests (MONGODB_URI/REDIS_URL when set)
	npm test

lint: ## ESLint
	npm run lint

typecheck: ## TypeScript, strict
	npm run typecheck

build: ## Compile to dist/
	npm run build

start: ## Build and start in the current environment
	npm start

schema: ## Print schema.graphql from the code-first schema
	npm run schema:print

codegen: ## Regenerate typed documents from schema.graphql
	npm run codegen

check: typecheck lint ## Typecheck, lint, and check schema.graphql is current
	npm run schema:check

backend: ## Start MongoDB, Redis and the server with Docker
	$(need-compose)
	@$(MAKE) --no-print-directory .env
	$(COMPOSE) up -d --build

logs: ## Follow the server's logs
	$(need-compose)
	$(COMPOSE) logs -f logout-all-server

stop: ## Stop the Docker services
	$(need-compose)
	$(COMPOSE) down

restart: ## Restart the Docker services with a rebuild
	$(need-compose)
	@$(MAKE) --no-print-directory .env
	$(COMPOSE) down
	$(COMPOSE) up -d --build

dev-docker: ## Start the stack with sources mounted and reload on change
	$(need-compose)
	@$(MAKE) --no-print-directory .env
	$(COMPOSE_DEV) up -d --build

dev-logs: ## Follow the development server's logs
	$(need-compose)
	$(COMPOSE_DEV) logs -f logout-all-server

dev-stop: ## Stop the development stack
	$(need-compose)
	$(COMPOSE_DEV) down

compose-config: ## Validate the compose files (needs Docker Compose v2, no engine)
	$(need-compose)
	JWT_SECRET=$${JWT_SECRET:-placeholder-for-validation-only-000000} $(COMPOSE) config --quiet
	JWT_SECRET=$${JWT_SECRET:-placeholder-for-validation-only-000000} $(COMPOSE_DEV) config --quiet

ferretdb: ## Start the FerretDB test server (over PostgreSQL where reachable, else SQLite; needs Go)
	@test-infra/ferretdb/run.sh start

ferretdb-stop: ## Stop the FerretDB test server and drop its data
	@test-infra/ferretdb/run.sh stop

clean: ## Remove build output, npm run dev's data and secret (.data/), the FerretDB binary and test artifacts
	rm -rf dist .data test-infra/ferretdb/bin test/artifacts

ci: ## What CI runs
	bash .ci/run

bench: ## Benchmarks (bench/)
	npm run bench
