/* tsc_ops.cu in the emulated library (cuda_runtime_emu.h). */
#include "../cuda_runtime_emu.h"

#include "../../tsc_ops.cu"
