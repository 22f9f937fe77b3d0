# Convenience targets; the README's two commands are scripts/run.sh and scripts/test.sh.
JOBS ?= 2
SOURCES := $(shell git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp')

.PHONY: build run test format format-check tidy bench clean
build:
	./scripts/build.sh
run:
	./scripts/run.sh
test:
	./scripts/test.sh
format:
	clang-format -i $(SOURCES)
format-check:
	clang-format --dry-run --Werror $(SOURCES)
tidy: build
	clang-tidy -p build $(filter %.cpp,$(filter src/%,$(SOURCES)))
bench:
	./bench/redirect.sh
clean:
	rm -rf build build-asan build-fuzz
