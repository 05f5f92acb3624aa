/* tsc_copy.cu in the emulated library (cuda_runtime_emu.h). */
#include "../cuda_runtime_emu.h"

#include "../../tsc_copy.cu"
