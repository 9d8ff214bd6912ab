# Offbeat: `make run` launches the app on the demo library; `make test` runs every test.
# Both install what is missing first (Debian/Ubuntu packages, the UI's npm packages).

SHELL := /bin/bash
.DEFAULT_GOAL := run

APT_PACKAGES := build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev \
	libayatana-appindicator3-dev librsvg2-dev libasound2-dev libopus-dev libdbus-1-dev dbus \
	xvfb xauth webkit2gtk-driver imagemagick xdotool \
	pulseaudio pulseaudio-utils libasound2-plugins curl python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := target/debug/offbeat

.PHONY: run test bench deps apt-deps ui-deps interop-deps ui build build-tests lint test-rust test-ui test-e2e bindings clean

## Installs missing system packages (apt) and the npm packages (the UI's, and the
## JavaScript automerge-repo client of the server's interop test).
deps: apt-deps ui-deps interop-deps

apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -o DPkg::Lock::Timeout=600 && \
	  $(SUDO) apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=600 $$missing; \
	fi
	@command -v cargo >/dev/null || { echo "Rust is needed: install it with rustup (https://rustup.rs)"; exit 1; }

ui-deps: ui/node_modules/.installed
ui/node_modules/.installed: ui/package.json ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch $@

interop-deps: tests/interop/node_modules/.installed
tests/interop/node_modules/.installed: tests/interop/package.json tests/interop/package-lock.json
	# `npm install` with the lock, not `npm ci`: cbor-x's optional native helpers
	# (cbor-extract's per-platform packages) never make it into the lock here, and npm ci
	# refuses a lock without them; cbor-x works without them.
	cd tests/interop && npm install --no-audit --no-fund --no-save
	touch $@

## The UI bundle the app embeds.
ui: ui-deps
	cd ui && npm run build

## The app, with the UI built into it.
build: apt-deps ui
	cargo build -p offbeat

run: build
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "No display: run this from a desktop session (or under Xvfb with DISPLAY set)."; exit 1; fi
	$(BIN)

## Every test binary and the app, built once with the features the whole workspace's
## tests unify to (a plain `cargo build -p offbeat` resolves them differently, and the
## tests would then rebuild the Tauri stack a second time).
build-tests: apt-deps ui
	cargo test --workspace --no-run

test: build-tests lint test-rust test-ui test-e2e
	@echo "All tests passed."

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

test-rust: interop-deps
	cargo test --workspace

test-ui: ui-deps
	cd ui && npm run check && npm test

test-e2e: build-tests
	OFFBEAT_BIN=$(BIN) bash tests/e2e/run.sh

## Rewrites ui/src/lib/backend/bindings.ts from the Rust types.
bindings:
	OFFBEAT_UPDATE_BINDINGS=1 cargo test -p offbeat --lib bindings

bench: apt-deps
	bash benches/run.sh

clean:
	cargo clean
	rm -rf ui/dist ui/node_modules bench-results tests/artifacts
