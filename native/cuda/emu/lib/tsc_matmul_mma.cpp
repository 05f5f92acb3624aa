/* tsc_matmul_mma.cu in the emulated library (cuda_runtime_emu.h). */
#include "../cuda_runtime_emu.h"
#include "../ptx_matmul_mma.h"

#include "../../tsc_matmul_mma.cu"
