/*
 * A stand-in for bcryptprimitives.dll, for the Windows test under Wine only (never shipped):
 * Rust's standard library imports ProcessPrng from it, which Wine 8 lacks, so the driver DLL
 * would not load. scripts/windows.sh builds this with mingw next to the test host and makes
 * Wine prefer it (WINEDLLOVERRIDES=bcryptprimitives=n). ProcessPrng fills the buffer from
 * RtlGenRandom (advapi32's SystemFunction036), which Wine has. Real Windows (10 and later)
 * has its own bcryptprimitives.dll.
 */
#include <windows.h>

/* advapi32's RtlGenRandom, declared here to avoid ntsecapi.h's extra definitions. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG n = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
