# Cross-compiling toolchain for 64-bit ARM Linux (Debian's gcc-aarch64-linux-gnu), with
# qemu-user so that ctest runs the aarch64 test binaries on an x86-64 host:
#   cmake -S . -B build-arm -G Ninja --toolchain native/cmake/aarch64-linux-gnu.cmake
#   cmake --build build-arm && ctest --test-dir build-arm
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Libraries and headers come from the cross sysroot only; programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# No binfmt registration is assumed: ctest prefixes every test with this command.
# qemu's default CPU model ("max") reports asimd, asimdhp and asimddp, so the dotprod
# level is what ts_isa_best() picks under it.
set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-aarch64;-L;/usr/aarch64-linux-gnu")
