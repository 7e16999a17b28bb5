#pragma once
// MELODIST_API marks what libmelodist.so exports; everything else in the library is hidden
// (-fvisibility=hidden), so only the declarations of include/melodist/ are its ABI.
#if defined(MELODIST_BUILDING_LIBRARY) || defined(__GNUC__)
#define MELODIST_API __attribute__((visibility("default")))
#else
#define MELODIST_API
#endif
