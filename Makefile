# Gatewarden developer entry points. `make` alone lists them.

# Ports on 127.0.0.1 used by `make run` (the integration tests pick free ones).
WEBHOOK_PORT ?= 9443
METRICS_PORT ?= 8080
HEALTH_PORT  ?= 8081
# Where `make run` keeps its kubeconfig and webhook.log.
STATE_DIR    ?= .local

GO  ?= go
BIN := $(CURDIR)/bin
# The image `make image` builds; config/webhook refers to gatewarden-webhook:dev.
IMG ?= gatewarden-webhook:dev
DOCKER ?= docker

export WEBHOOK_PORT METRICS_PORT HEALTH_PORT
export GATEWARDEN_STATE_DIR := $(STATE_DIR)

.DEFAULT_GOAL := help
.PHONY: help tools codegen generate build build-static image certs run test test-unit fuzz vet fmt manifests manifests-without-cert-manager

help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

tools: ## Build the pinned kube-apiserver, etcd and kubectl into bin/ (slow once, then cached).
	bash hack/build-tools.sh

codegen: ## Build the pinned controller-gen into bin/ (hack/codegen; kept while up to date).
	bash hack/build-codegen.sh

# test/generate fails when the committed output differs from what this makes.
generate: ## Regenerate deep copies and config/crd from pkg/apis with the pinned controller-gen.
	bash hack/generate.sh

build: ## Build the webhook into bin/webhook.
	$(GO) build -o $(BIN)/webhook ./cmd/webhook

# What the Dockerfile builds: no cgo, so the binary runs on distroless/static.
build-static: ## Build the static (CGO_ENABLED=0) webhook the image ships, into bin/webhook-static.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(BIN)/webhook-static ./cmd/webhook

image: ## Build the container image IMG (default gatewarden-webhook:dev) from the Dockerfile; needs a Docker engine.
	$(DOCKER) build -t $(IMG) .

certs: ## Generate the development CA and serving certificate in certs/ (kept while valid).
	$(GO) run ./hack/certs -dir certs

# Built and executed rather than `go run`, which turns a clean exit after Ctrl-C into status 1.
run: build tools certs ## Run a local apiserver with the webhook wired in, until Ctrl-C.
	$(GO) build -o $(BIN)/run ./hack/run
	GATEWARDEN_SKIP_BUILD=1 $(BIN)/run

# The integration tests start envtest from bin/ (KUBEBUILDER_ASSETS) and run the
# bin/webhook built just before; packages run in parallel, so they must not each rebuild it.
# test/generate runs bin/controller-gen (it would build it itself, next to the control planes).
test: build tools codegen ## Run all tests, integration tests included.
	KUBEBUILDER_ASSETS=$(BIN) GATEWARDEN_SKIP_BUILD=1 $(GO) test ./...

# Fuzz targets as package:name; `make fuzz` runs each for FUZZTIME (CI runs them briefly).
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./pkg/admission:FuzzAdmissionReview \
	./pkg/policy:FuzzValidateHTTPRoute ./pkg/policy:FuzzValidateTLSRoute ./pkg/policy:FuzzValidateGateway \
	./pkg/policy:FuzzValidateListenerSet ./pkg/policy:FuzzReferenceGrantChange ./pkg/policy:FuzzDecodeObjects

fuzz: ## Run every fuzz target for FUZZTIME each (default 30s).
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $${t#*:} ($(FUZZTIME))"; \
	  $(GO) test $${t%%:*} -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME); \
	done

# The fault tests (test/faults) run in `make test` with a 20s soak; this runs the soak alone
# for SOAKTIME and prints its goroutine and heap samples. See docs/reliability.md.
SOAKTIME ?= 10m
.PHONY: soak
soak: build tools ## Soak the webhook at steady load for SOAKTIME (default 10m); goroutines and heap must stay bounded.
	KUBEBUILDER_ASSETS=$(BIN) GATEWARDEN_SKIP_BUILD=1 GATEWARDEN_SOAK=$(SOAKTIME) \
	  $(GO) test ./test/faults -run '^TestSoak$$' -count=1 -v -timeout 60m

test-unit: ## Run the unit tests of pkg/ only (no control plane needed).
	$(GO) test ./pkg/...

vet: ## Run go vet.
	$(GO) vet ./...

fmt: ## Fail if any Go file is not gofmt-formatted (lists them).
	@files=$$(find . -name '*.go' -not -path './.*' -not -path './bin/*' | xargs gofmt -l); \
	if [ -n "$$files" ]; then echo "gofmt needed:"; echo "$$files"; exit 1; fi

# Built and executed (see run above); the orchestrator starts its own control plane, webhook
# and no-op baseline on free ports, and stops them again. See docs/performance.md.
BENCH_BINS = for t in load noop run; do $(GO) build -o $(BIN)/bench-$$t ./test/bench/$$t || exit 1; done
.PHONY: bench bench-quick
bench: build tools ## Benchmark at the reference scale (80k objects, ~10 min); prints name=value figures.
	@$(BENCH_BINS)
	$(BIN)/bench-run

bench-quick: build tools ## The same figures on ~8000 objects and short runs (under two minutes).
	@$(BENCH_BINS)
	$(BIN)/bench-run -quick

# Tool build messages go to stderr so that `make manifests > out.yaml` is pure YAML.
manifests: ## Render config/webhook with bin/kubectl kustomize.
	@bash hack/build-tools.sh >&2
	@$(BIN)/kubectl kustomize config/webhook

manifests-without-cert-manager: ## Make certs in config/without-cert-manager/certs and render that overlay.
	@$(GO) run ./hack/certs -dir config/without-cert-manager/certs >&2
	@bash hack/build-tools.sh >&2
	@$(BIN)/kubectl kustomize config/without-cert-manager
