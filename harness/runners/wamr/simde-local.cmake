# CMake toolchain file for the WAMR runner's build (set as CMAKE_TOOLCHAIN_FILE
# by harness/build.rs, read by the cmake crate that wamrx-sys's build uses).
# WAMR's SIMD support needs SIMDe, a header-only library its CMake fetches with
# FetchContent from GitHub, which these machines cannot reach. This points the
# fetch at Debian's libsimde-dev headers instead (scripts/setup.sh installs them):
# FetchContent then uses the directory as the source and clones nothing.
set(FETCHCONTENT_SOURCE_DIR_SIMDE "/usr/include" CACHE PATH "SIMDe headers (Debian libsimde-dev)" FORCE)
