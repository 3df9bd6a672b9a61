/*
 * rigd's instruction counter for qemu-user (TCG plugin, QEMU 7.2 API).
 *
 * Counts every guest instruction executed, adding each translation block's
 * instruction count inline when the block runs, and writes the total to
 * the file named by the plugin argument `out=` (or stderr) at exit.
 * Debian ships no qemu-plugin.h, so the few declarations used are written
 * out here against the stable 7.x plugin ABI.
 *
 *   qemu-aarch64 -plugin ./libicount.so,out=count.txt ./program
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb* tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void* userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb* tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb* tb, enum qemu_plugin_op op, void* ptr,
                                              uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void* userdata);

#define RIGD_EXPORT __attribute__((visibility("default")))

/* QEMU 7.2 speaks plugin API version 1. */
RIGD_EXPORT int qemu_plugin_version = 1;

/* One counter: the programs counted are single-threaded (a racy add from
 * several vCPU threads would undercount). */
static uint64_t executed;
static char out_path[4096];

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, qemu_plugin_tb_n_insns(tb));
}

static void on_exit_report(qemu_plugin_id_t id, void* userdata) {
    (void)id;
    (void)userdata;
    FILE* f = out_path[0] ? fopen(out_path, "w") : NULL;
    fprintf(f ? f : stderr, "%" PRIu64 "\n", executed);
    if (f) {
        fclose(f);
    }
}

RIGD_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc, char** argv) {
    (void)info;
    for (int i = 0; i < argc; ++i) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit_report, NULL);
    return 0;
}
