// Rusk's GPU kernels: CUDA C compiled at run time by NVRTC, one module per device.
// Every kernel loops over its rows with a grid stride, so any grid size covers any n.
// Group codes use at most 63 bits, so EMPTY (all ones) never collides with a code.

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;

#define EMPTY 0xFFFFFFFFFFFFFFFFull
// The slot of a row a filter dropped: no aggregation kernel touches it (no atomics pile up on
// one address however many rows the filter drops).
#define DROPPED 0xFFFFFFFFu
#define ROWS(i, n) for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; i < (n); \
                        i += (u64)blockDim.x * gridDim.x)

extern "C" __global__ void fill_u64(u64* out, u64 value, u64 n) {
    ROWS(i, n) { out[i] = value; }
}

extern "C" __global__ void fill_f64(double* out, double value, u64 n) {
    ROWS(i, n) { out[i] = value; }
}

// One key column into the rows' group codes: code |= (key - min) << shift.
extern "C" __global__ void pack_keys(const i64* keys, i64 min, u32 shift, u64* codes,
                                     u32 first, u64 n) {
    ROWS(i, n) {
        u64 part = ((u64)keys[i] - (u64)min) << shift;
        codes[i] = first ? part : (codes[i] | part);
    }
}

// Few groups: the code is the slot.
extern "C" __global__ void dense_slots(const u64* codes, u32* slots, u64 n) {
    ROWS(i, n) { slots[i] = (u32)codes[i]; }
}

__device__ __forceinline__ u64 mix(u64 x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

// Many groups: a global open-addressing table (capacity mask + 1, a power of two, at least
// twice the rows, so a probe always ends).
extern "C" __global__ void hash_slots(const u64* codes, u64* table, u32* slots, u64 mask,
                                      u64 n) {
    ROWS(i, n) {
        u64 code = codes[i];
        u64 h = mix(code) & mask;
        while (true) {
            u64 seen = atomicCAS(&table[h], EMPTY, code);
            if (seen == EMPTY || seen == code) {
                slots[i] = (u32)h;
                break;
            }
            h = (h + 1) & mask;
        }
    }
}

// Keys too wide to pack: a row is hashed by all its keys (column k's rows at k * n of `keys`),
// and the table keeps the first row of each group that reached a slot; a row whose keys equal
// that row's shares its slot. A row number in the table is final once written, and key columns
// do not change, so comparing with it needs no further synchronisation.
extern "C" __global__ void hash_rows(const i64* keys, u32 count, u64* table, u32* slots,
                                     u64 mask, u64 n) {
    ROWS(i, n) {
        u64 h = 0x9E3779B97F4A7C15ull;
        for (u32 k = 0; k < count; k++) h = mix(h ^ (u64)keys[k * n + i]);
        h &= mask;
        while (true) {
            u64 seen = atomicCAS(&table[h], EMPTY, (u64)i);
            bool same = seen == EMPTY;
            if (!same) {
                same = true;
                for (u32 k = 0; k < count && same; k++) same = keys[k * n + seen] == keys[k * n + i];
            }
            if (same) {
                slots[i] = (u32)h;
                break;
            }
            h = (h + 1) & mask;
        }
    }
}

// Device programs (src/gpu/program.rs): a stack machine run per row over `data` (column c of
// n rows at c * n) and `valid` (the validity of the columns that have one, each n bytes).
// Opcodes: 0 load (arg: column | validity slot + 1 << 32), 1 literal, 2-4 add/sub/mul i64
// (wrapping), 5-8 add/sub/mul/div f64, 9 i64 to f64, 10 compare i64, 11 compare f64 (arg:
// comparison), 12 and, 13 or, 14 not, 15 is null. Comparisons: 0 =, 1 !=, 2 <, 3 <=, 4 >,
// 5 >=.
#define PROGRAM_STACK 16

__device__ __forceinline__ bool holds(i64 a, i64 op, i64 b) {
    switch (op) {
        case 0: return a == b;
        case 1: return a != b;
        case 2: return a < b;
        case 3: return a <= b;
        case 4: return a > b;
        default: return a >= b;
    }
}

// A float as an integer in IEEE total order (as `total_order_bits`).
__device__ __forceinline__ i64 total_order(double x) {
    i64 bits = __double_as_longlong(x);
    return bits ^ (i64)(((u64)(bits >> 63)) >> 1);
}

// A float as an integer that orders as DataFusion compares floats: -0.0 = 0.0, then IEEE
// total order.
__device__ __forceinline__ i64 ordered(double x) {
    return total_order(x == 0.0 ? 0.0 : x);
}

__device__ __forceinline__ double as_f64(i64 bits) { return __longlong_as_double(bits); }
__device__ __forceinline__ i64 as_bits(double x) { return __double_as_longlong(x); }

// Writes each row's value and validity. A comparison of a NaN that arithmetic made sets
// `unsure`: its sign is the processor's choice, so the host hands the chunk to the CPU.
extern "C" __global__ void eval_program(const u32* ops, const i64* args, u32 len,
                                        const i64* data, const unsigned char* valid, u64 n,
                                        i64* out, unsigned char* out_valid, u32* unsure) {
    ROWS(i, n) {
        i64 v[PROGRAM_STACK];
        bool ok[PROGRAM_STACK];
        int top = -1;
        bool made_nan = false;
        for (u32 p = 0; p < len; p++) {
            u32 op = ops[p];
            i64 arg = args[p];
            if (op == 0) {
                u64 column = (u64)arg & 0xFFFFFFFFull;
                u64 slot = (u64)arg >> 32;
                top++;
                v[top] = data[column * n + i];
                ok[top] = slot == 0 || valid[(slot - 1) * n + i];
                continue;
            }
            if (op == 1) {
                top++;
                v[top] = arg;
                ok[top] = true;
                continue;
            }
            if (op == 9) {
                v[top] = as_bits((double)v[top]);
                continue;
            }
            if (op == 14) {
                v[top] = v[top] == 0;
                continue;
            }
            if (op == 15) {
                v[top] = !ok[top];
                ok[top] = true;
                continue;
            }
            // The rest pop two values and push one.
            i64 b = v[top];
            bool okb = ok[top];
            top--;
            i64 a = v[top];
            bool oka = ok[top];
            bool both = oka && okb;
            switch (op) {
                case 2: v[top] = (i64)((u64)a + (u64)b); ok[top] = both; break;
                case 3: v[top] = (i64)((u64)a - (u64)b); ok[top] = both; break;
                case 4: v[top] = (i64)((u64)a * (u64)b); ok[top] = both; break;
                case 5: case 6: case 7: case 8: {
                    double x = as_f64(a), y = as_f64(b);
                    double r = op == 5 ? x + y : op == 6 ? x - y : op == 7 ? x * y : x / y;
                    made_nan = made_nan || isnan(r);
                    v[top] = as_bits(r);
                    ok[top] = both;
                    break;
                }
                case 10: v[top] = holds(a, arg, b); ok[top] = both; break;
                case 11: {
                    double x = as_f64(a), y = as_f64(b);
                    if (made_nan && (isnan(x) || isnan(y))) atomicOr(unsure, 1u);
                    v[top] = holds(ordered(x), arg, ordered(y));
                    ok[top] = both;
                    break;
                }
                // A null result's bits are 0, as on the CPU.
                case 12: {
                    bool falsy = (oka && a == 0) || (okb && b == 0);
                    v[top] = !falsy && both;
                    ok[top] = falsy || both;
                    break;
                }
                default: {
                    bool truthy = (oka && a != 0) || (okb && b != 0);
                    v[top] = truthy;
                    ok[top] = truthy || both;
                    break;
                }
            }
        }
        out[i] = v[0];
        out_valid[i] = ok[0];
    }
}

// A filter's result: rows where it is false or null get the DROPPED slot.
extern "C" __global__ void drop_unless(u32* slots, const i64* keep,
                                       const unsigned char* keep_valid, u64 n) {
    ROWS(i, n) {
        if (!keep_valid[i] || keep[i] == 0) slots[i] = DROPPED;
    }
}

extern "C" __global__ void count_rows(const u32* slots, u64* counts, u64 n) {
    ROWS(i, n) {
        if (slots[i] != DROPPED) atomicAdd(&counts[slots[i]], 1ull);
    }
}

// Sums wrap on overflow, as the CPU's do.
extern "C" __global__ void sum_i64(const u32* slots, const i64* values, u64* sums, u64 n) {
    ROWS(i, n) {
        if (slots[i] != DROPPED) atomicAdd(&sums[slots[i]], (u64)values[i]);
    }
}

// A NaN's sign and payload in a float sum depend on the processor (and on the order of the
// additions): a row with one sets `unsure`, and the chunk runs on the CPU.
extern "C" __global__ void sum_f64(const u32* slots, const double* values, double* sums,
                                   u32* unsure, u64 n) {
    ROWS(i, n) {
        if (slots[i] == DROPPED) continue;
        if (isnan(values[i])) atomicOr(unsure, 1u);
        atomicAdd(&sums[slots[i]], values[i]);
    }
}

extern "C" __global__ void min_i64(const u32* slots, const i64* values, i64* mins, u64 n) {
    ROWS(i, n) {
        if (slots[i] != DROPPED) atomicMin(&mins[slots[i]], values[i]);
    }
}

extern "C" __global__ void max_i64(const u32* slots, const i64* values, i64* maxes, u64 n) {
    ROWS(i, n) {
        if (slots[i] != DROPPED) atomicMax(&maxes[slots[i]], values[i]);
    }
}

// Float min/max by integer atomics over the floats' total order (`total_order`).
// DataFusion's accumulators keep whichever of two equal values (-0.0, 0.0) or of a NaN and a
// number came last, which no order of atomics reproduces: such a row sets `unsure`, and the
// host hands the chunk to the CPU.
__device__ __forceinline__ bool order_free(double x) {
    return !isnan(x) && !(x == 0.0 && signbit(x));
}

extern "C" __global__ void min_f64(const u32* slots, const double* values, i64* mins,
                                   u32* unsure, u64 n) {
    ROWS(i, n) {
        if (slots[i] == DROPPED) continue;
        double x = values[i];
        if (!order_free(x)) atomicOr(unsure, 1u);
        else atomicMin(&mins[slots[i]], total_order(x));
    }
}

extern "C" __global__ void max_f64(const u32* slots, const double* values, i64* maxes,
                                   u32* unsure, u64 n) {
    ROWS(i, n) {
        if (slots[i] == DROPPED) continue;
        double x = values[i];
        if (!order_free(x)) atomicOr(unsure, 1u);
        else atomicMax(&maxes[slots[i]], total_order(x));
    }
}

// Few groups: each block reduces into a table in shared memory (`groups` entries), then adds
// its table to the global one: one global atomic per group and block instead of per row.
// The rows go in warp-wide steps (a lane past n holds no row), so that every lane of a warp
// takes part in the shuffles of `add_local`.
#define WARP_ROWS(i, n) for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; \
                             (i & ~31ull) < (n); i += (u64)blockDim.x * gridDim.x)
#define FULL_WARP 0xFFFFFFFFu
// At most this many groups: the lanes of a warp with the same slot add their values first,
// and the lowest of them alone touches shared memory (atomics on a handful of addresses
// otherwise queue up behind each other).
#define WARP_GROUPS 32

template <typename T>
__device__ __forceinline__ void add_local(T* local, u32 slot, T value, u32 groups) {
    if (groups > WARP_GROUPS) {
        if (slot != DROPPED) atomicAdd(&local[slot], value);
        return;
    }
    u32 lane = threadIdx.x & 31;
    T total = 0;
    bool leader = true;
    for (u32 j = 0; j < 32; j++) {
        u32 their_slot = __shfl_sync(FULL_WARP, slot, j);
        T their_value = __shfl_sync(FULL_WARP, value, j);
        if (their_slot == slot) {
            total += their_value;
            if (j < lane) leader = false;
        }
    }
    if (leader && slot != DROPPED) atomicAdd(&local[slot], total);
}

extern "C" __global__ void count_rows_shared(const u32* slots, u64* counts, u32 groups, u64 n) {
    extern __shared__ u64 local_counts[];
    for (u32 g = threadIdx.x; g < groups; g += blockDim.x) local_counts[g] = 0;
    __syncthreads();
    WARP_ROWS(i, n) {
        u32 slot = i < n ? slots[i] : DROPPED;
        add_local(local_counts, slot, 1ull, groups);
    }
    __syncthreads();
    for (u32 g = threadIdx.x; g < groups; g += blockDim.x) {
        if (local_counts[g] != 0) atomicAdd(&counts[g], local_counts[g]);
    }
}

extern "C" __global__ void sum_f64_shared(const u32* slots, const double* values, double* sums,
                                          u32* unsure, u32 groups, u64 n) {
    extern __shared__ double local_sums[];
    for (u32 g = threadIdx.x; g < groups; g += blockDim.x) local_sums[g] = 0.0;
    __syncthreads();
    WARP_ROWS(i, n) {
        u32 slot = i < n ? slots[i] : DROPPED;
        double value = slot != DROPPED ? values[i] : 0.0;
        if (isnan(value)) atomicOr(unsure, 1u);
        add_local(local_sums, slot, value, groups);
    }
    __syncthreads();
    for (u32 g = threadIdx.x; g < groups; g += blockDim.x) atomicAdd(&sums[g], local_sums[g]);
}

// Sums wrap on overflow, as the CPU's do.
extern "C" __global__ void sum_i64_shared(const u32* slots, const i64* values, u64* sums,
                                          u32 groups, u64 n) {
    extern __shared__ u64 local_isums[];
    for (u32 g = threadIdx.x; g < groups; g += blockDim.x) local_isums[g] = 0;
    __syncthreads();
    WARP_ROWS(i, n) {
        u32 slot = i < n ? slots[i] : DROPPED;
        add_local(local_isums, slot, slot != DROPPED ? (u64)values[i] : 0ull, groups);
    }
    __syncthreads();
    for (u32 g = threadIdx.x; g < groups; g += blockDim.x) atomicAdd(&sums[g], local_isums[g]);
}

// The slots that have rows, in any order; `found` counts them.
extern "C" __global__ void occupied(const u64* counts, u32* slots_out, u32* found, u64 capacity) {
    ROWS(s, capacity) {
        if (counts[s] != 0) slots_out[atomicAdd(found, 1u)] = (u32)s;
    }
}

extern "C" __global__ void gather_u64(const u64* from, const u32* slots, u64* to, u64 n) {
    ROWS(i, n) { to[i] = from[slots[i]]; }
}

extern "C" __global__ void gather_f64(const double* from, const u32* slots, double* to, u64 n) {
    ROWS(i, n) { to[i] = from[slots[i]]; }
}

// k-means, assignment: the nearest centroid (the first of equals, as on the CPU); `changed`
// counts the rows whose label moved.
extern "C" __global__ void kmeans_assign(const double* points, const double* centroids,
                                         u32* labels, u32* changed, u64 n, u32 dims, u32 k) {
    ROWS(i, n) {
        const double* p = points + i * dims;
        u32 best = 0;
        double best_distance = 1.0 / 0.0;
        for (u32 c = 0; c < k; c++) {
            const double* q = centroids + (u64)c * dims;
            double distance = 0.0;
            for (u32 j = 0; j < dims; j++) {
                double d = p[j] - q[j];
                distance += d * d;
            }
            if (distance < best_distance) {
                best_distance = distance;
                best = c;
            }
        }
        if (labels[i] != best) {
            labels[i] = best;
            atomicAdd(changed, 1u);
        }
    }
}

// k-means, update: each cluster's coordinate sums and size (the host divides).
extern "C" __global__ void kmeans_accumulate(const double* points, const u32* labels,
                                             double* sums, u64* counts, u64 n, u32 dims) {
    ROWS(i, n) {
        u32 c = labels[i];
        atomicAdd(&counts[c], 1ull);
        for (u32 j = 0; j < dims; j++) atomicAdd(&sums[(u64)c * dims + j], points[i * dims + j]);
    }
}

// Regression (src/gpu/regression.rs), a logistic step: each row's weight p (1 - p) and
// residual p - y, p = σ(β₀ + Σ βⱼ xⱼ).
extern "C" __global__ void logistic_terms(const double* x, const double* y, const double* beta,
                                          u32 dims, double* w, double* r, u64 n) {
    ROWS(i, n) {
        double z = beta[0];
        for (u32 j = 0; j < dims; j++) z += beta[j + 1] * x[i * dims + j];
        double p = 1.0 / (1.0 + exp(-z));
        w[i] = p * (1.0 - p);
        r[i] = p - y[i];
    }
}

// Regression: the packed upper triangle of Σ w x̃ x̃ᵀ, then Σ r x̃ (x̃ = [1, x]; w = 1 where
// `weighted` is 0), into `out`. Each block sums its `per_block` rows, a thread per entry (the
// threads of a block read the same row at once), and adds its sums to `out`.
extern "C" __global__ void regression_sums(const double* x, const double* w, const double* r,
                                           u32 weighted, u32 dims, u64 per_block, double* out,
                                           u64 n) {
    // At most 4096 features (regression::check): these products fit in 32 bits.
    u32 m = dims + 1;
    u32 packed = m * (m + 1) / 2;
    u64 start = blockIdx.x * per_block;
    u64 end = start + per_block < n ? start + per_block : n;
    if (start >= end) return;
    for (u32 e = threadIdx.x; e < packed + m; e += blockDim.x) {
        bool moment = e >= packed;
        u32 a = 0, b = 0;
        if (moment) {
            a = e - packed;
        } else {
            u32 left = e;
            while (left >= m - a) {
                left -= m - a;
                a++;
            }
            b = a + left;
        }
        double total = 0.0;
        for (u64 i = start; i < end; i++) {
            double xa = a == 0 ? 1.0 : x[i * dims + a - 1];
            if (moment) {
                total += r[i] * xa;
            } else {
                double xb = b == 0 ? 1.0 : x[i * dims + b - 1];
                total += (weighted ? w[i] : 1.0) * xa * xb;
            }
        }
        atomicAdd(&out[e], total);
    }
}
