# The project's entry points. `make run` and `make test` both start from a fresh
# Debian machine: they install the system packages first (hack/install-deps.sh is
# idempotent), then build.

CARGO ?= cargo
export CARGO_INCREMENTAL ?= 0

.PHONY: all deps build run stop test bench lint fmt clean

all: build

deps:
	./hack/install-deps.sh

build: deps
	$(CARGO) build --workspace --release

run: build
	./hack/local-up.sh

# Tears down a cluster that `make run` left running (after a crash or kill -9).
stop:
	$(CARGO) run --quiet --release --bin local-cluster -- down --dir _output/local

test: deps
	./hack/python-client.sh
	./hack/images/build.sh
	./hack/registry.sh start
	./hack/registry.sh stop
	$(CARGO) build --workspace --all-targets
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

bench: deps
	$(CARGO) bench -p storage --bench storage
	$(CARGO) bench -p kube-apiserver --bench apiserver
	$(CARGO) bench -p kube-scheduler --bench scheduling
	$(CARGO) bench -p kube-proxy --bench proxy
	$(CARGO) bench -p container-runtime --bench pod_start
	$(CARGO) bench -p kube-dns --bench dns
	./hack/images/build.sh
	./hack/registry.sh start
	./hack/registry.sh stop
	$(CARGO) build --release -p kube-apiserver -p kubelet -p container-runtime
	$(CARGO) bench -p test-e2e --bench pod_startup
	$(CARGO) bench -p kube-controller-manager --bench controller_manager

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
