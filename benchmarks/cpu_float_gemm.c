// One-thread CPU time of ggml's mul_mat (prompt-sized: N tokens) for a weight type, on ggml d99724f's CPU kernels.
#include "ggml.h"
#include "ggml-cpu.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char ** argv) {
    const char * tname = argc > 1 ? argv[1] : "f16";
    int K = 4096, M = argc > 2 ? atoi(argv[2]) : 2048, N = argc > 3 ? atoi(argv[3]) : 512, reps = argc > 4 ? atoi(argv[4]) : 3;
    enum ggml_type t = GGML_TYPE_F16;
    if (!strcmp(tname, "bf16")) t = GGML_TYPE_BF16;
    else if (!strcmp(tname, "f32")) t = GGML_TYPE_F32;
    else if (!strcmp(tname, "q8_0")) t = GGML_TYPE_Q8_0;
    else if (!strcmp(tname, "q4_0")) t = GGML_TYPE_Q4_0;
    struct ggml_init_params p = { (size_t) 512 << 20, NULL, false };
    struct ggml_context * ctx = ggml_init(p);
    struct ggml_tensor * w = ggml_new_tensor_2d(ctx, t, K, M);
    struct ggml_tensor * x = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, K, N);
    float * tmp = malloc(sizeof(float) * (size_t) K * M);
    srand(1);
    for (size_t i = 0; i < (size_t) K * M; i++) tmp[i] = (rand() / (float) RAND_MAX - 0.5f) * 0.1f;
    if (t == GGML_TYPE_F32) memcpy(w->data, tmp, sizeof(float) * (size_t) K * M);
    else if (t == GGML_TYPE_F16) ggml_fp32_to_fp16_row(tmp, w->data, (int64_t) K * M);
    else if (t == GGML_TYPE_BF16) ggml_fp32_to_bf16_row(tmp, w->data, (int64_t) K * M);
    else ggml_quantize_chunk(t, tmp, w->data, 0, M, K, NULL);
    float * xd = (float *) x->data;
    for (size_t i = 0; i < (size_t) K * N; i++) xd[i] = (rand() / (float) RAND_MAX - 0.5f);
    struct ggml_tensor * y = ggml_mul_mat(ctx, w, x);
    struct ggml_cgraph * gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, y);
    ggml_graph_compute_with_ctx(ctx, gf, 1);  // warm-up
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = cpu_s();
        ggml_graph_compute_with_ctx(ctx, gf, 1);
        double dt = cpu_s() - t0;
        if (dt < best) best = dt;
    }
    double ops = 2.0 * K * M * N;
    printf("%s K=%d M=%d N=%d best_cpu_s=%.4f gops_per_cpu_s=%.2f\n", tname, K, M, N, best, ops / best / 1e9);
    return 0;
}
