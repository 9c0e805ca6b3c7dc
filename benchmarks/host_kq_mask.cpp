// Session 29 (cuda29; docs/methodology.md 5f-cuda29): the host time per KQ-mask cell of llama.cpp builds from PR #14363
// (2025-07-16, KV streams) to before PR #18842 (2026-01-14), measured on whatever CPU runs this. No scorer reads it.
// Build: g++ -O3 -DNDEBUG -std=c++17 benchmarks/host_kq_mask.cpp -o /tmp/host_kq_mask   (-DMAXSEQ=256 for the later
// LLAMA_MAX_SEQ). Run: /tmp/host_kq_mask DEPTH UBATCH SWA(0 full cache, 1 window 128); prints the best of 7 calls.
// The KQ-mask loop of llama_kv_cache_unified::set_input_kq_mask in llama.cpp builds from PR #14363 (streams) to before
// PR #18842 (2026-01-14): std::fill(-INF), then per token per cell is_empty / seq_has / pos_get / causal / is_masked_swa.
// Cells: std::vector<llama_pos> pos, std::vector<std::bitset<LLAMA_MAX_SEQ>> seq (llama-kv-cells.h).
#include <bitset>
#include <vector>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#ifndef MAXSEQ
#define MAXSEQ 64
#endif
// llama_hparams::is_masked_swa lives in llama-hparams.cpp, another translation unit (no LTO in llama.cpp's default
// build): a call per cell, kept here with noinline.
enum llama_swa_type { LLAMA_SWA_TYPE_NONE = 0, LLAMA_SWA_TYPE_STANDARD = 1, LLAMA_SWA_TYPE_CHUNKED = 2 };
__attribute__((noinline)) bool is_masked_swa_impl(uint32_t n_swa, int swa_type, int32_t p0, int32_t p1) {
    switch (swa_type) {
        case LLAMA_SWA_TYPE_NONE: break;
        case LLAMA_SWA_TYPE_STANDARD: if (p1 - p0 >= (int32_t) n_swa) return true; break;
        case LLAMA_SWA_TYPE_CHUNKED: { const int32_t pos_chunk_start = (p1 / n_swa) * n_swa; if (p0 < pos_chunk_start) return true; break; }
    }
    return false;
}
struct cells_t {
    std::vector<int32_t> pos; std::vector<std::bitset<MAXSEQ>> seq;
    bool is_empty(uint32_t i) const { return pos[i] == -1; }
    bool seq_has(uint32_t i, int s) const { return seq[i].test(s); }
    int32_t pos_get(uint32_t i) const { return pos[i]; }
};
struct kv_t {
    cells_t cells; uint32_t n_swa; int swa_type; bool use_alibi = false;
    __attribute__((noinline)) bool is_masked_swa(int32_t p0, int32_t p1) const { return is_masked_swa_impl(n_swa, swa_type, p0, p1); }
    __attribute__((noinline)) void set_mask(float * data, int64_t n_kv, int64_t n_tokens, const int32_t * upos, bool causal) const {
        const int64_t n_tps_pad = (n_tokens + 63) / 64 * 64;
        std::fill(data, data + n_kv * n_tps_pad, -INFINITY);
        for (int64_t ii = 0; ii < n_tokens; ++ii) {
            const int seq_id = 0; const int32_t p1 = upos[ii]; const uint64_t idst = n_kv * ii;
            for (uint32_t j = 0; j < n_kv; ++j) {
                if (cells.is_empty(j)) continue;
                if (!cells.seq_has(j, seq_id)) continue;
                const int32_t p0 = cells.pos_get(j);
                if (causal && p0 > p1) continue;
                if (is_masked_swa(p0, p1)) continue;
                data[idst + j] = use_alibi ? -std::abs(p0 - p1) : 0.0f;
            }
        }
    }
};
int main(int argc, char ** argv) {
    const int64_t depth = atoll(argv[1]);   // cells already in the cache
    const int64_t ub = atoll(argv[2]);      // micro-batch tokens
    const int swa_type = atoi(argv[3]);     // 0 full cache, 1 SWA (window 128)
    const int64_t size = depth + ub + 256;
    kv_t kv; kv.n_swa = 128; kv.swa_type = swa_type;
    kv.cells.pos.assign(size, -1); kv.cells.seq.assign(size, {});
    // a prompt at `depth`: cells 0..depth+ub-1 hold positions 0..depth+ub-1 of sequence 0 (the ubatch's own were stored first)
    for (int64_t i = 0; i < depth + ub; ++i) { kv.cells.pos[i] = i; kv.cells.seq[i].set(0); }
    const int64_t n_kv = std::min<int64_t>(size, (depth + ub + 255) / 256 * 256);
    std::vector<int32_t> upos(ub); for (int64_t i = 0; i < ub; ++i) upos[i] = depth + i;
    std::vector<float> data(n_kv * ((ub + 63) / 64 * 64));
    double best = 1e30;
    for (int r = 0; r < 7; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        kv.set_mask(data.data(), n_kv, ub, upos.data(), true);
        auto t1 = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
    }
    double cells = double(n_kv) * ub;
    printf("depth %lld ub %lld swa %d n_kv %lld cells %.3e  best %.3f ms  %.3f ns/cell  chk %f\n", (long long)depth, (long long)ub, swa_type, (long long)n_kv, cells, best*1e3, best*1e9/cells, data[n_kv*(ub-1)]);
}
