/*
 * Stand-in for Windows' bcryptprimitives.dll, for running the test
 * executables under wine 8.0, which lacks this DLL. Rust's standard library
 * imports one function from it, ProcessPrng; this one fills the buffer from
 * advapi32's RtlGenRandom (exported as SystemFunction036). Never shipped:
 * only copied into a throw-away wine prefix by scripts/windows.sh.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
