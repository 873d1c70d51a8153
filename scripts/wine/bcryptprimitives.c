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
 * always returning TRUE, and Rust's std relies on that (it does not check
 * the result). RtlGenRandom takes a ULONG length, so large requests are
 * filled in pieces. If the random source ever fails, the shim says so on
 * stderr and ends the process with status 70 rather than hand back
 * predictable bytes.
 *
 * Built into the Wine prefix by scripts/wine/env.sh (wine_prefix_ready) with:
 *   x86_64-w64-mingw32-gcc -shared -O2 -s -static-libgcc \
 *     -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* advapi32 exports RtlGenRandom under this name only. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

static void fail(void)
{
    static const char message[] = "bcryptprimitives.dll (Wine shim): RtlGenRandom failed; no random bytes\r\n";
    DWORD written;
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), message, sizeof message - 1, &written, NULL);
    TerminateProcess(GetCurrentProcess(), 70);
}

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    const ULONG piece_max = 0x10000000; /* well inside ULONG */
    while (length > 0) {
        ULONG piece = length > piece_max ? piece_max : (ULONG)length;
        if (!SystemFunction036(data, piece))
            fail();
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
