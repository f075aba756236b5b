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

// Filters: a row is kept while every condition holds (`first` starts the mask). Comparisons:
// 0 =, 1 !=, 2 <, 3 <=, 4 >, 5 >=. Floats arrive as integers that order as Arrow orders floats.
__device__ __forceinline__ bool holds(i64 a, u32 op, i64 b) {
    switch (op) {
        case 0: return a == b;
        case 1: return a != b;
        case 2: return a < b;
        case 3: return a <= b;
        case 4: return a > b;
        default: return a >= b;
    }
}

extern "C" __global__ void keep_i64(const i64* column, u32 op, i64 literal, unsigned char* keep,
                                    u32 first, u64 n) {
    ROWS(i, n) {
        bool met = holds(column[i], op, literal);
        keep[i] = first ? met : (keep[i] && met);
    }
}

extern "C" __global__ void drop_rows(u32* slots, const unsigned char* keep, u64 n) {
    ROWS(i, n) {
        if (!keep[i]) slots[i] = DROPPED;
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

extern "C" __global__ void sum_f64(const u32* slots, const double* values, double* sums, u64 n) {
    ROWS(i, n) {
        if (slots[i] != DROPPED) atomicAdd(&sums[slots[i]], values[i]);
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

// Few groups: each block reduces into a table in shared memory (`groups` entries), then adds
// its table to the global one: one global atomic per group and block instead of per row.
extern "C" __global__ void count_rows_shared(const u32* slots, u64* counts, u32 groups, u64 n) {
    extern __shared__ u64 local_counts[];
    for (u32 g = threadIdx.x; g < groups; g += blockDim.x) local_counts[g] = 0;
    __syncthreads();
    ROWS(i, n) {
        if (slots[i] != DROPPED) atomicAdd(&local_counts[slots[i]], 1ull);
    }
    __syncthreads();
    for (u32 g = threadIdx.x; g < groups; g += blockDim.x) {
        if (local_counts[g] != 0) atomicAdd(&counts[g], local_counts[g]);
    }
}

extern "C" __global__ void sum_f64_shared(const u32* slots, const double* values, double* sums,
                                          u32 groups, u64 n) {
    extern __shared__ double local_sums[];
    for (u32 g = threadIdx.x; g < groups; g += blockDim.x) local_sums[g] = 0.0;
    __syncthreads();
    ROWS(i, n) {
        if (slots[i] != DROPPED) atomicAdd(&local_sums[slots[i]], values[i]);
    }
    __syncthreads();
    for (u32 g = threadIdx.x; g < groups; g += blockDim.x) atomicAdd(&sums[g], local_sums[g]);
}

extern "C" __global__ void sum_i64_shared(const u32* slots, const i64* values, u64* sums,
                                          u32 groups, u64 n) {
    extern __shared__ u64 local_isums[];
    for (u32 g = threadIdx.x; g < groups; g += blockDim.x) local_isums[g] = 0;
    __syncthreads();
    ROWS(i, n) {
        if (slots[i] != DROPPED) atomicAdd(&local_isums[slots[i]], (u64)values[i]);
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
