# nova-docker-operator: every target runs with Node.js >= 22.19 first on PATH.
# hack/ensure-node.sh installs Node 24 from the npm registry into .tools/ when
# the machine's node is older (Debian bookworm machines ship Node 20).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NODE_BIN := $(shell hack/ensure-node.sh)
ifeq ($(NODE_BIN),)
$(error hack/ensure-node.sh found no usable Node.js; see its message above)
endif
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)

MOCHA := mocha --config .mocharc.json

.PHONY: help
help: ## List the targets with one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-20s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci
	@touch $@

.PHONY: deps
deps: node_modules/.package-lock.json ## Install the locked npm packages

.PHONY: build
build: deps ## Compile TypeScript into dist/
	tsc -p tsconfig.json

.PHONY: test
test: build control-plane-build ## Run every test tier this machine can run (unit, integration, e2e)
	$(MOCHA) 'dist/test/**/*.test.js'

.PHONY: test-unit
test-unit: build ## Run the unit tests only (no servers started)
	$(MOCHA) 'dist/test/unit/**/*.test.js'

.PHONY: test-integration
test-integration: build control-plane-build ## Run the integration tests against real servers
	$(MOCHA) 'dist/test/integration/**/*.test.js'

.PHONY: test-e2e
test-e2e: build control-plane-build ## Run the end-to-end tests through kubectl
	$(MOCHA) 'dist/test/e2e/**/*.test.js'

.PHONY: lint
lint: deps ## Check types, lint rules and formatting
	tsc -p tsconfig.json --noEmit
	eslint .
	prettier --check .

.PHONY: fmt
fmt: deps ## Format every file with prettier
	prettier --write .

.PHONY: generate
generate: build ## Write crds/ from the types under src/api/
	node dist/hack/generate-crd.js

.PHONY: control-plane-build
control-plane-build: ## Build etcd, kube-apiserver and kubectl once into ~/.cache (minutes the first time)
	test/controlplane/control-plane.sh build >/dev/null

.PHONY: control-plane-up
control-plane-up: ## Build (once) and start etcd and kube-apiserver on 127.0.0.1
	test/controlplane/control-plane.sh up

.PHONY: control-plane-down
control-plane-down: ## Stop the etcd and kube-apiserver that control-plane-up started
	test/controlplane/control-plane.sh down

.PHONY: test-openstack
test-openstack: build ## Run the tests tagged @openstack against the real OpenStack test cloud
	$(MOCHA) --grep @openstack 'dist/test/**/*.test.js'

.PHONY: cloud-install
cloud-install: ## Install the Debian OpenStack packages of the test cloud (root; no service starts)
	test/cloud/cloud.sh install

.PHONY: cloud-up
cloud-up: ## Start the OpenStack test cloud on 127.0.0.1 (no-op when it runs); clouds.yaml in ~/.cache
	test/cloud/cloud.sh start >/dev/null

.PHONY: cloud-down
cloud-down: ## Stop the OpenStack test cloud, or after the last test run using it (FORCE=1: now)
	test/cloud/cloud.sh stop $(if $(FORCE),--force,--when-unused)

.PHONY: cloud-reset
cloud-reset: ## Stop the OpenStack test cloud and restore its databases to the first snapshot
	test/cloud/cloud.sh reset $(if $(FORCE),--force)

.PHONY: cloud-status
cloud-status: ## Show the OpenStack test cloud's services, memory, endpoints and leases
	test/cloud/cloud.sh status

# Extra flags for the convergence benchmark, e.g. BENCH_FLAGS='--sizes 100,1000,5000 --idle 5m'.
BENCH_FLAGS ?=
# Image sizes of the image streaming benchmark, in MiB.
BENCH_IMAGE_SIZES ?= 100 500

.PHONY: bench
bench: build control-plane-build ## Run the benchmarks that fit in about 15 minutes and write bench/BENCHMARKS.md (BENCH_FLAGS adds flags)
	node dist/bench/convergence.js --sizes 100,1000 --compare 100 --idle 2m $(BENCH_FLAGS)
	reports=$$(mktemp -d) && trap 'rm -rf "$$reports"' EXIT && \
	for size in $(BENCH_IMAGE_SIZES); do \
	  node dist/bench/image-streaming.js --size-mib "$$size" --no-write > "$$reports/$$size.md" || exit 1; \
	done && \
	node dist/bench/write-section.js image-streaming $(foreach size,$(BENCH_IMAGE_SIZES),"$$reports/$(size).md")

.PHONY: run
run: build ## Run the operator on the current kubeconfig: CLOUDS_YAML=file OS_CLOUD=name [SECRET=ns/name] [RUN_ARGS=flags]
	hack/run-operator.sh

.PHONY: demo
demo: build control-plane-build ## Start the control plane, Docker, registry, dev cloud and operator; run the demo instances
	hack/demo.sh up

.PHONY: demo-down
demo-down: ## Stop every process that make demo started, by PID (logs stay in .state/demo)
	hack/demo.sh down

.PHONY: demo-status
demo-status: ## List the processes of the running demo with their PIDs
	hack/demo.sh status

.PHONY: clean
clean: ## Remove build output (keeps the control plane and Node caches)
	rm -rf dist coverage
