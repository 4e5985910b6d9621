# medcode: two commands on a fresh machine.
#   make demo  builds medcode, installs the ICD-10-CM and ICD-10-PCS releases
#              (from ../shared/data when present, otherwise from the publisher)
#              and runs the main job on them.
#   make test  runs every check CI runs.
# Then make serve runs the coding service on the demo's data.

GO      ?= go
BIN     := bin/medcode
DATA    ?= $(CURDIR)/.medcode-demo
SHARED  ?= $(abspath $(CURDIR)/../shared/data)
FUZZTIME ?= 10s
ADDR    ?= 127.0.0.1:8080

.PHONY: build demo serve test bench fuzz

build:
	$(GO) build -o $(BIN) ./cmd/medcode

demo: build
	MEDCODE_DATA=$(DATA) SHARED=$(SHARED) ./scripts/demo.sh $(BIN)

# The coding service on the releases make demo installed: a new secret of
# the coder token "demo" (created the first time, rotated after; printed
# once, on the first line), then the service on ADDR, until Ctrl-C. Its
# database is $(DATA)/medcode.db.
serve: build
	@test -d $(DATA)/releases || { echo "no demo data in $(DATA): run make demo first" >&2; exit 1; }
	@$(BIN) --data $(DATA) token rotate demo 2>/dev/null || $(BIN) --data $(DATA) token create --role coder --name demo
	$(BIN) --data $(DATA) serve --addr $(ADDR)

test:
	./scripts/test-deps.sh
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed on:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) test -race -timeout 40m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Every fuzz test of every package, FUZZTIME each (seed corpora run in
# make test too).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done
