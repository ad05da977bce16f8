"""The floor of mount scaling: N recursive read-only bind mounts made with
bare system calls, in a user+mount namespace of their own (run under
`unshare -Urm`). Prints the milliseconds the mount calls took."""
import ctypes, os, sys, time

libc = ctypes.CDLL(None, use_errno=True)
MS_BIND, MS_REC, MS_REMOUNT, MS_RDONLY = 0x1000, 0x4000, 0x20, 0x1

def mount(src, dst, flags):
    if libc.mount(src.encode(), dst.encode(), None, flags, None) != 0:
        raise OSError(ctypes.get_errno(), f"mount {src} {dst}")

n, srcdir, dstdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
mount("none", "/", MS_REC | 0x80000)  # MS_SLAVE
libc.mount(b"tmpfs", dstdir.encode(), b"tmpfs", 0, None)
for i in range(n):
    os.mkdir(f"{dstdir}/d{i}")
t = time.perf_counter()
for i in range(n):
    dst = f"{dstdir}/d{i}"
    mount(f"{srcdir}/d{i}", dst, MS_BIND | MS_REC)
    mount("none", dst, MS_REMOUNT | MS_BIND | MS_RDONLY)
print(f"{(time.perf_counter() - t) * 1000:.3f}")
