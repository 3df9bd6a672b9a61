/*
 * rigd's instruction counter for qemu-user (TCG plugin, QEMU 7.2 API).
 *
 * Counts every guest instruction executed, adding each translation block's
 * instruction count inline when the block runs, and writes the total to
 * the file named by the plugin argument `out=` (or stderr) at exit. With
 * `sym=<file>` it also writes the count per function (the symbol of each
 * translation block's first instruction), most executed first: where the
 * instructions go, since perf cannot profile arm64 code here.
 * Debian ships no qemu-plugin.h, so the few declarations used are written
 * out here against the stable 7.x plugin ABI.
 *
 *   qemu-aarch64 -plugin ./libicount.so,out=count.txt[,sym=profile.txt] ./program
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb* tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void* userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb* tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb* tb, enum qemu_plugin_op op, void* ptr,
                                              uint64_t imm);
struct qemu_plugin_insn* qemu_plugin_tb_get_insn(const struct qemu_plugin_tb* tb, size_t idx);
const char* qemu_plugin_insn_symbol(const struct qemu_plugin_insn* insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void* userdata);

#define RIGD_EXPORT __attribute__((visibility("default")))

/* QEMU 7.2 speaks plugin API version 1. */
RIGD_EXPORT int qemu_plugin_version = 1;

/* One counter: the programs counted are single-threaded (a racy add from
 * several vCPU threads would undercount). */
static uint64_t executed;
static char out_path[4096];
static char sym_path[4096];

/* Per-function counts (sym=): one counter per symbol name, found by a
 * linear search at translation time (rare) and bumped inline when the
 * block runs. */
struct sym_count {
    const char* name;
    uint64_t count;
};
static struct sym_count* syms;
static size_t n_syms;
static size_t cap_syms;

static uint64_t* counter_for(const char* name) {
    if (!name) {
        name = "?";
    }
    for (size_t i = 0; i < n_syms; ++i) {
        if (strcmp(syms[i].name, name) == 0) {
            return &syms[i].count;
        }
    }
    if (n_syms == cap_syms) {
        return NULL; /* full: the rest count only in the total */
    }
    syms[n_syms].name = strdup(name);
    syms[n_syms].count = 0;
    return &syms[n_syms++].count;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
    (void)id;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, n);
    if (syms && n > 0) {
        uint64_t* c = counter_for(qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, 0)));
        if (c) {
            qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, c, n);
        }
    }
}

static int by_count(const void* a, const void* b) {
    const uint64_t x = ((const struct sym_count*)a)->count;
    const uint64_t y = ((const struct sym_count*)b)->count;
    return x < y ? 1 : (x > y ? -1 : 0);
}

static void on_exit_report(qemu_plugin_id_t id, void* userdata) {
    (void)id;
    (void)userdata;
    FILE* f = out_path[0] ? fopen(out_path, "w") : NULL;
    fprintf(f ? f : stderr, "%" PRIu64 "\n", executed);
    if (f) {
        fclose(f);
    }
    if (syms) {
        qsort(syms, n_syms, sizeof *syms, by_count);
        FILE* g = fopen(sym_path, "w");
        for (size_t i = 0; g && i < n_syms; ++i) {
            fprintf(g, "%" PRIu64 " %s\n", syms[i].count, syms[i].name);
        }
        if (g) {
            fclose(g);
        }
    }
}

RIGD_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc, char** argv) {
    (void)info;
    for (int i = 0; i < argc; ++i) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        } else if (strncmp(argv[i], "sym=", 4) == 0) {
            snprintf(sym_path, sizeof sym_path, "%s", argv[i] + 4);
            /* Fixed capacity: translated code holds the counters' addresses. */
            cap_syms = 1 << 16;
            syms = calloc(cap_syms, sizeof *syms);
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit_report, NULL);
    return 0;
}
