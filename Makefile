# neuro-noodle: `make` builds bin/, `make check` runs every test, `make install PREFIX=...`.
# SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer.

PREFIX ?= /usr/local
CC ?= cc
PKGS := libpng libzmq msgpack openblas zlib libjpeg fftw3 cairo
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))

CFLAGS ?= -O3 -g
override CFLAGS += -std=gnu11 -fno-math-errno -fno-trapping-math -fopenmp-simd -Wall -Wextra -Icommon $(PKG_CFLAGS) -MMD -MP
override LDFLAGS += -Wl,--as-needed
LDLIBS := $(PKG_LIBS) -lmvec -lm -lpthread
ifeq ($(SANITIZE),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
endif

PROGRAMS := nn-cat nn-ingest nn-split nn-vae-train nn-encode nn-pca nn-decode nn-tsne nn-render nn-edit nn-score nn-align nn-farm
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=build/%.o)
LIB := build/libnn.a
BINS := $(PROGRAMS:%=bin/%)
TEST_BINS := tests/bin/test_common tests/bin/test_vae tests/bin/test_tsne tests/bin/test_tsne_bh tests/bin/test_tsne_fft tests/bin/nn-mkstream tests/bin/nn-mkimage tests/bin/nn-mkfaces
MAN1 := $(wildcard man/man1/*.1)
MAN5 := $(wildcard man/man5/*.5)
MAN7 := $(wildcard man/man7/*.7)

all: $(BINS)

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# Barnes-Hut's vector codes (AVX-512, AVX2, SSE2) give the same bits only if none fuses
# multiply-adds.
build/common/tsne_bh.o: override CFLAGS += -ffp-contract=off

$(LIB): $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

RENDER_OBJ := $(patsubst %.c,build/%.o,$(wildcard stages/render/*.c))
bin/nn-render: build/stages/nn-render.o $(RENDER_OBJ) $(LIB)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bin/%: build/stages/%.o $(LIB)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/bin/%: build/tests/unit/%.o $(LIB)
	@mkdir -p tests/bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/bin/nn-%: build/tests/tools/nn-%.o $(LIB)
	@mkdir -p tests/bin
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	bash .ci/install-deps

# The main job: Fashion-MNIST end to end into out/fashion-mnist (installs what is missing first).
demo: deps
	$(MAKE) all
	bash pipelines/fashion-mnist.sh

check: all $(TEST_BINS)
	bash tests/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(PREFIX)/share/man/man7)

# Fuzz the stream reader with libFuzzer for FUZZ_SECONDS (not part of CI).
FUZZ_SECONDS ?= 60
fuzz: tests/bin/nn-mkstream
	@mkdir -p build/fuzz/corpus
	clang -g -O1 -std=gnu11 -Icommon $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o build/fuzz/fuzz_reader fuzz/fuzz_reader.c $(COMMON_SRC) $(LDLIBS)
	bash fuzz/seed-corpus build/fuzz/corpus
	build/fuzz/fuzz_reader -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=25 \
	    -artifact_prefix=build/fuzz/ build/fuzz/corpus

bench: all tests/bin/nn-mkstream
	bash bench/stream.sh

clean:
	rm -rf build bin tests/bin

# deps runs first when given with other goals, as in `make deps all`.
.PHONY: deps demo all check install fuzz bench clean
.SECONDARY:
-include $(shell find build -name '*.d' 2>/dev/null)
