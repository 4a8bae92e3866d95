# werun-sam: build, test and run locally.
#
#   make local    the whole backend on 127.0.0.1:3000 (no Docker, no AWS account)
#   make test     what CI runs first (installs its tools into build/ first)
#   make sam-local  SAM CLI's own `sam local` in Docker, checked end to end (Linux, root; CI runs it after make test)
#
# `sam build` calls the build-<LogicalId> targets below (BuildMethod: makefile,
# in source), so there is exactly one build recipe for SAM, the local stack
# and the tests.

SHELL := /bin/bash
.DEFAULT_GOAL := help

GO           ?= go
# Lambda's architecture (template.yaml: arm64). Only a command-line
# GOARCH=... changes it (the local stack builds natively that way); a GOARCH
# exported in the shell does not leak into Lambda builds.
GOARCH       := arm64
ARTIFACTS_DIR ?= build/artifacts
GOFLAGS_BUILD := -tags lambda.norpc -trimpath -ldflags "-s -w -buildid="

VENV        := build/venv
SAM         := $(VENV)/bin/sam
CFN_LINT    := $(VENV)/bin/cfn-lint
RIE         := build/bin/aws-lambda-rie
RIE_MODULE  := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Fuzz targets run briefly by `make test`, as package:FuzzName; a missing one
# fails the run. `make fuzz FUZZ_TIME=5000000x` (or FUZZ_TIME=10m, accepting
# the race below) runs them longer; what a target finds goes to its
# testdata/fuzz folder: commit it, it stays as seed corpus.
# The budget is a count of executions, not a duration: Go 1.26's fuzz
# coordinator can fail a duration run with a bare "context deadline exceeded"
# at the deadline (golang/go#75804, fixed in Go 1.27); a count has no deadline.
FUZZ_TARGETS := ./shared/crypto:FuzzDecrypt ./shared/crypto:FuzzVerify \
                ./shared/steps:FuzzParsePayload ./shared/steps:FuzzParsePayloadAgreesWithEncodingJSON \
                ./shared/steps:FuzzValidate \
                ./shared/api/internal/wire:FuzzDecodeRequest
FUZZ_TIME    ?= 200000x
# Each new interesting input is minimized; a count keeps that bounded too.
FUZZ_MINIMIZE ?= 10000x

# No AWS account or telemetry needed for sam build / validate. They need a
# region, any; `make deploy` does not get this default (see below).
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

# make deploy ENV=dev|prod [CONFIRM=no] [REGION=...]: the samconfig.toml
# environment (its own stack and secrets); CONFIRM=no deploys without
# showing the change set first (CI); REGION overrides the profile's.
ENV     ?= dev
CONFIRM ?= yes
REGION  ?=

FUNCTION ?= SessionFunction
EVENT    ?= events/session.json

# (The build-<LogicalId> targets are not .PHONY on purpose: make then fails
# loudly for a LogicalId that has no target, instead of doing nothing.)
.PHONY: help build test local invoke lint deploy tools clean fuzz fuzz-go check-template sam-local client

help:
	@echo "make local                  run the API on 127.0.0.1:3000 with dynalite, the emulator and the WeChat simulator"
	@echo "make test                   install tools, lint, cfn-lint, sam build, all Go tests against local services"
	@echo "make invoke FUNCTION=StepsFunction EVENT=events/steps.json   one event through one function"
	@echo "make build                  sam build (arm64 bootstraps in .aws-sam/build)"
	@echo "make build-<LogicalId> ARTIFACTS_DIR=dir   one bootstrap (what sam build calls)"
	@echo "make lint                   gofmt, go vet, staticcheck"
	@echo "make client                 the mini program client: types checked against docs/openapi.yaml, build, tests on the local stack"
	@echo "make deploy ENV=dev         sam deploy of samconfig.toml's dev (or prod) stack, guided the first time (README, Deploy)"
	@echo "make sam-local              sam local invoke/start-api in Docker, checked end to end (installs Docker, arm64 emulation)"

# --- one bootstrap per function (called by sam build) -----------------------

define gobuild
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build $(GOFLAGS_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)
endef

build-SessionFunction:
	$(call gobuild,session)
build-DecryptFunction:
	$(call gobuild,decrypt)
build-OpenDataFunction:
	$(call gobuild,opendata)
build-StepsFunction:
	$(call gobuild,steps)
build-SocialFunction:
	$(call gobuild,social)
build-AccountFunction:
	$(call gobuild,account)
build-RefreshFunction:
	$(call gobuild,refresh)
build-ChallengeFunction:
	$(call gobuild,challenge)

# --- tools, installed once into build/ (stamp files keep reruns cheap) ------

tools: $(VENV)/.stamp local/node_modules/.stamp client/node_modules/.stamp $(RIE)

$(VENV)/.stamp: local/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r local/requirements.txt
	touch $@

local/node_modules/.stamp: local/package.json local/package-lock.json
	cd local && npm ci --no-audit --no-fund --loglevel=error
	touch $@

client/node_modules/.stamp: client/package.json client/package-lock.json
	cd client && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(RIE):
	GOBIN=$(abspath build/bin) CGO_ENABLED=0 $(GO) install $(RIE_MODULE)@$(RIE_VERSION)

# --- the everyday commands ---------------------------------------------------

build: $(VENV)/.stamp
	$(SAM) build

# The local stack is built with the functions' compile flags, so the packages
# they share (the AWS SDK above all) compile once into the Go build cache.
LOCALRUN := CGO_ENABLED=0 $(GO) run -tags lambda.norpc -trimpath ./local

local: local/node_modules/.stamp $(RIE)
	$(LOCALRUN) serve

invoke: local/node_modules/.stamp $(RIE)
	$(LOCALRUN) invoke -function $(FUNCTION) -event $(EVENT)

# `make sam-local`: SAM CLI's own Docker-based local runs, checked end to end
# (README, "With SAM CLI and Docker"). Installs Docker and arm64 emulation
# from Debian when missing, so Linux and root; stops all it starts but dockerd.
sam-local: $(VENV)/.stamp local/node_modules/.stamp
	$(LOCALRUN) sam-local

# Guided when samconfig.toml has no parameter values for ENV yet (the
# first deploy; its answers are saved there), plain after. The region is
# the profile's unless REGION (or AWS_DEFAULT_REGION in the environment)
# says otherwise: the build's default above is not passed on.
DEPLOY_REGION := $(if $(REGION),$(REGION),$(if $(filter environment command line,$(origin AWS_DEFAULT_REGION)),$(AWS_DEFAULT_REGION)))
deploy: build
	@test "$(ENV)" = dev -o "$(ENV)" = prod || { echo "ENV=$(ENV): use ENV=dev or ENV=prod (samconfig.toml)"; exit 1; }
	@if $(VENV)/bin/python -c 'import sys, tomllib; sys.exit(0 if tomllib.load(open("samconfig.toml", "rb")).get("$(ENV)", {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides") else 1)'; then \
	  set -x; env -u AWS_DEFAULT_REGION $(SAM) deploy --config-env $(ENV) $(if $(DEPLOY_REGION),--region $(DEPLOY_REGION)) $(if $(filter no,$(CONFIRM)),--no-confirm-changeset); \
	else \
	  echo "First deploy of $(ENV): create its SSM SecureStrings (README, Deploy), then answer the questions (README lists them)."; \
	  set -x; env -u AWS_DEFAULT_REGION $(SAM) deploy --guided --config-env $(ENV) $(if $(DEPLOY_REGION),--region $(DEPLOY_REGION)); \
	fi

lint:
	@test -z "$$(gofmt -l functions shared local internal)" || { gofmt -l functions shared local internal; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The regions the template must deploy to, China's included. cfn-lint applies
# the SAM transform for the first of several --regions only, so it runs once
# per region (the transform's ARNs differ by partition).
LINT_REGIONS := us-east-1 ap-east-1 ap-southeast-1 cn-north-1 cn-northwest-1

check-template: $(VENV)/.stamp
	@for r in $(LINT_REGIONS); do \
	  echo "cfn-lint --regions $$r template.yaml"; \
	  $(CFN_LINT) --regions $$r -- template.yaml || exit 1; \
	done
	$(SAM) validate --lint

# Tests run inside `local exec`, which starts dynalite and moto on free ports
# and stops them when the command ends, also when it fails; the tests reuse
# them. (A plain `go test ./...` works too once the tools are installed: each
# test binary then starts the services it needs through the same code.)
test: tools
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory check-template
	$(GO) run ./local exec -- $(GO) test -count=1 ./...
	$(MAKE) --no-print-directory client
	$(MAKE) --no-print-directory fuzz-go

# The client's types are generated from docs/openapi.yaml (npm --prefix
# client run generate); a description that changed without them fails here.
# Its tests run against the whole local stack on free ports (`local run`).
# The tests run three times: on the untranspiled build, and on what WeChat's
# own compiler makes of the package under its `es6` and `enhance` settings
# (client/scripts/wechat.mjs).
client: client/node_modules/.stamp local/node_modules/.stamp $(RIE)
	@cd client && npm run --silent check-types >/dev/null 2>&1 || { \
	  echo "client/src/schema.ts disagrees with docs/openapi.yaml: run npm --prefix client run generate and commit it"; exit 1; }
	cd client && npm run --silent build && npm run --silent wechat
	$(LOCALRUN) run -- npm --prefix client --silent run test:all

# `make fuzz`: the Go fuzz targets, then schemathesis over the local API with
# ST_MAX_EXAMPLES examples per operation (make test runs it with 50).
ST_MAX_EXAMPLES ?= 1000
fuzz: fuzz-go tools
	$(GO) run ./local exec -- env ST_MAX_EXAMPLES=$(ST_MAX_EXAMPLES) $(GO) test -count=1 -timeout 30m -run '^TestSchemathesis$$' ./local/systest

fuzz-go:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  if grep -qs "func $$name(" $$pkg/*_test.go; then \
	    echo "fuzz $$pkg $$name for $(FUZZ_TIME)"; \
	    $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZ_TIME) -fuzzminimizetime=$(FUZZ_MINIMIZE) $$pkg || exit 1; \
	  else echo "fuzz $$pkg $$name: no such fuzz target (fix FUZZ_TARGETS)"; exit 1; fi; \
	done

clean:
	rm -rf .aws-sam build/local build/artifacts build/sam-local

# --- performance and load ---------------------------------------------------
# `make bench` measures and writes docs/PERFORMANCE.md (under ten minutes);
# `make load` runs LOAD_USERS users syncing at once through the local API and
# fails on any 5xx. Both start their own local stack on free ports.
LOAD_USERS ?= 200
.PHONY: bench load

bench: local/node_modules/.stamp $(RIE)
	$(LOCALRUN) bench -out docs/PERFORMANCE.md

load: local/node_modules/.stamp $(RIE)
	$(LOCALRUN) load -users $(LOAD_USERS)

# The bench's reference bootstrap: a bare handler, built exactly as the functions.
build-BenchHello:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build $(GOFLAGS_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./local/hello
