/* tsc_matmul.cu in the emulated library (cuda_runtime_emu.h). */
#include "../cuda_runtime_emu.h"
#include "../ptx_matmul.h"

#include "../../tsc_matmul.cu"
