/* tsc_conv.cu in the emulated library (cuda_runtime_emu.h). */
#include "../cuda_runtime_emu.h"
#include "../ptx_conv.h"

#include "../../tsc_conv.cu"
