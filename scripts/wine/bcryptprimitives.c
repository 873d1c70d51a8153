/*
 * A stand-in for Windows' bcryptprimitives.dll, for running Rust test
 * binaries under Wine 8.
 *
 * Rust's standard library (since 1.78) gets its random bytes, e.g. the
 * HashMap seed, from ProcessPrng in bcryptprimitives.dll. Wine 8 has no such
 * DLL, so every Rust binary fails to start (exit status 53). This DLL
 * exports ProcessPrng and nothing else, and fills the buffer from
 * advapi32's RtlGenRandom (exported as SystemFunction036), which Wine
 * implements from the host's random source.
 *
 * Windows documents ProcessPrng as: BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData),
 * always returning TRUE. RtlGenRandom takes a ULONG length, so large
 * requests are filled in pieces. If the random source ever fails, this
 * returns FALSE rather than hand back predictable bytes; Rust's std then
 * panics, which is the honest outcome for a test run.
 *
 * Built into the Wine prefix by scripts/wine/env.sh (wine_prefix_ready) with:
 *   x86_64-w64-mingw32-gcc -shared -O2 -s -static-libgcc \
 *     -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* advapi32 exports RtlGenRandom under this name only. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    const ULONG piece_max = 0x10000000; /* well inside ULONG */
    while (length > 0) {
        ULONG piece = length > piece_max ? piece_max : (ULONG)length;
        if (!SystemFunction036(data, piece))
            return FALSE;
        data += piece;
        length -= piece;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
