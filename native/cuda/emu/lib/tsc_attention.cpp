/* tsc_attention.cu in the emulated library (cuda_runtime_emu.h). */
#include "../cuda_runtime_emu.h"
#include "../ptx_attention.h"

#include "../../tsc_attention.cu"
