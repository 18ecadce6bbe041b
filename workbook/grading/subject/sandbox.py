"""Confine the *subject* process, the one that runs learner code, before it runs any.

Grading is split in two processes: the judge (pytest and the hidden checks) never
runs learner code, and the subject runs nothing else. `confine()` is what makes the
subject safe to hand arbitrary code: called once in a freshly forked, still
single-threaded child, it applies, in this order,

1. resource limits (memory, CPU backstop, file size, no core files, process count)
   and `umask 077`, while the process may still set them;
2. a **scratch quota**: a private mount namespace in which a size-limited tmpfs
   (`Confinement.scratch_mb`, mode 0700, owned by the subject) covers the scratch
   folder, so that filling it answers ENOSPC to the subject and to no one else. As
   root a mount namespace is enough; otherwise a user namespace that maps only the
   own uid and gid comes with it. Files the caller made in scratch before (an open
   log) stay in the folder underneath;
3. a uid drop to `nobody` when running as root (containers, CI), when `nobody` can
   read the Python installation;
4. **no capabilities**: when root (whether or not the uid drop happened) or holding
   any, the bounding (before the uid drop, which takes the right to), ambient,
   effective, permitted and inheritable sets are all emptied and checked empty in
   /proc/self/status. A root that keeps uid 0 keeps only what file ownership gives
   it, and the Landlock rules below decide the rest;
5. `PR_SET_NO_NEW_PRIVS`, then **Landlock** (Linux >= 5.13): the subject may read
   the Python installation precisely (standard library, lib-dynload, its executable
   and libpython), site-packages (entry by entry, never the `workbook` package,
   which carries the reference solutions), the system libraries, a short list of
   files in /etc and the parts of /sys that numpy and TensorFlow read for the CPU
   layout; may read and write its scratch folder (but make no device, fifo or
   socket file there), use /dev/null, read /dev/urandom, and nothing else: not
   the workspace, not the course, not /tmp, not /opt, not /etc/shadow. No
   execute right anywhere; no TCP (ABI >= 4); no signals to and no abstract unix
   sockets towards processes outside the sandbox (ABI >= 6);
6. **seccomp-BPF** last: no new processes (fork, vfork, non-thread clone, execve),
   no new sockets, nothing aimed at another process (signals, including to a
   process group or every process, pidfds, rlimits, scheduling, NUMA and I/O
   priorities are allowed only on the subject itself), no ptrace or cross-process
   memory access, no device or fifo files, no capabilities back, no namespaces,
   mounts, io_uring (which would bypass the filter), kernel keyrings, modules and
   the like. Nothing beyond the limits either: fallocate answers EOPNOTSUPP (it
   reserves disk that RLIMIT_FSIZE never counts; glibc's posix_fallocate then
   writes), memfd_create ENOSYS and mmap of shared anonymous memory EPERM (neither
   counts toward RLIMIT_DATA), and no SysV IPC or POSIX message queue (which outlive
   the attempt). A root subject still owns root's files, so what only an owner may
   do is refused too: fcntl(F_SETLEASE) (which stalls every other opener), chmod,
   chown, utime(s) and setting or removing extended attributes, on any file,
   scratch files included. Threads keep working: clone with CLONE_THREAD is allowed,
   clone3 answers ENOSYS so that glibc falls back to clone.

Where something is not available (macOS, an old kernel, an unusual architecture, a
Python installation that `nobody` cannot read, a container that may not mount),
`confine()` does what it can and says plainly in `Protection.notes` what is not
protected; it raises only when a mechanism that is available fails to apply.
`probe()` reports the same without applying anything (for `workbook doctor`).

This module imports only the standard library: it must be importable before the
subject has anything else, and by any interpreter.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import platform
import site
import stat
import sys
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Confinement",
    "Protection",
    "Rule",
    "SandboxError",
    "confine",
    "plan",
    "probe",
]


class SandboxError(RuntimeError):
    """A protection that this machine supports could not be applied."""


@dataclass(frozen=True)
class Confinement:
    """What the subject process may touch, and how much it may use."""

    scratch: Path
    """The only folder the subject may write (and, besides libraries, read)."""
    hidden: tuple[Path, ...]
    """Must not be readable: the workspace root, the `workbook` package dir, the
    bundled course and checks. Trees of the Python installation that lie inside a
    hidden path (a `.venv` in the workspace) are still readable, minus `workbook`."""
    uid: int | None = 65534
    """When running as root, drop to this uid (and its passwd gid, else the same
    number). None: never drop."""
    memory_mb: int = 1024
    """RLIMIT_DATA: heap, anonymous mappings and thread stacks."""
    cpu_hard_s: float = 60
    """RLIMIT_CPU backstop only: the judge enforces the real budget by polling."""
    file_mb: int = 64
    """RLIMIT_FSIZE: the largest file the subject may write."""
    parent: int | None = None
    """Re-arm PR_SET_PDEATHSIG(SIGKILL) for this parent pid after the uid change,
    which clears it."""
    extra_read: tuple[Path, ...] = ()
    """More read-only trees (e.g. a data folder). Skipped where inside a hidden path."""
    static_rules: tuple[tuple[str, str], ...] | None = None
    """The read rules from `static_plan`, computed by the caller (the parent process,
    idle while the judge starts); None: planned here."""
    static_notes: tuple[str, ...] = ()
    """The notes that came with `static_rules`."""
    nproc: int = 512
    """RLIMIT_NPROC after a uid drop. Threads count toward it (and so do all other
    processes of that uid on the machine), so it must fit TensorFlow's pools; it is
    a backstop, seccomp is what stops new processes."""
    scratch_mb: int = 256
    """The size of the tmpfs mounted over the scratch folder: all the subject may
    write, together (each file also stays under `file_mb`; at most 64 files or
    folders per MiB, as inodes cost kernel memory beyond the size). 0: no quota."""


@dataclass
class Protection:
    """What confined (or would confine) the subject, for reports and `doctor`."""

    landlock_abi: int | None
    """The Landlock ABI in force; None: files are not confined by Landlock."""
    seccomp: bool
    """Whether the syscall filter is (would be) installed."""
    uid: int | None
    """The uid dropped to; None if unchanged."""
    notes: list[str] = field(default_factory=list)
    """Plain words for what is missing or partial, and why."""
    capabilities: str | None = None
    """"dropped": the subject started with capabilities (root, or the user namespace
    made for the scratch quota) and holds none now (checked); "none held": it had
    none to drop; None: not known (not Linux)."""
    scratch_quota_mb: int | None = None
    """The size of the tmpfs over the scratch folder; None: writes are bounded only
    by the file size limit and the disk."""

    def label(self) -> str:
        """A short tag such as "landlock-abi-7+seccomp+uid-65534+nocaps+quota-256mb",
        or "none"."""
        parts = []
        if self.landlock_abi is not None:
            parts.append(f"landlock-abi-{self.landlock_abi}")
        if self.seccomp:
            parts.append("seccomp")
        if self.uid is not None:
            parts.append(f"uid-{self.uid}")
        if self.capabilities is not None:
            parts.append("nocaps")
        if self.scratch_quota_mb is not None:
            parts.append(f"quota-{self.scratch_quota_mb}mb")
        return "+".join(parts) or "none"

    @property
    def files_confined(self) -> bool:
        """Whether learner code can write nothing but its scratch folder (Landlock in
        force, no rule noted as partial): the grader then need not look again at the
        workspace after an attempt."""
        return self.landlock_abi is not None and not any(
            note.startswith(PARTIAL_FILES) for note in self.notes
        )

    def to_json(self) -> dict:
        """Plain data for a results file or a report event."""
        return {
            "label": self.label(),
            "landlock_abi": self.landlock_abi,
            "files_confined": self.files_confined,
            "seccomp": self.seccomp,
            "uid": self.uid,
            "capabilities": self.capabilities,
            "scratch_quota_mb": self.scratch_quota_mb,
            "notes": list(self.notes),
        }


PARTIAL_FILES = "partial file protection"  # how a note on an exposed hidden path begins


@dataclass(frozen=True)
class Rule:
    """One Landlock allow rule: `path` (resolved) and what may be done beneath it."""

    path: Path | str
    access: str
    """"read" (files and directories), "write" (everything but execute), "dev-rw"
    or "dev-ro" (a single device file)."""


# --------------------------------------------------------------------------------
# Platform facts

_LINUX = sys.platform.startswith("linux")
_MACHINE = platform.machine().lower()
_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(
    _MACHINE
)

# Identical on x86_64 and aarch64 (new syscalls share one numbering).
_NR_LANDLOCK_CREATE_RULESET = 444
_NR_LANDLOCK_ADD_RULE = 445
_NR_LANDLOCK_RESTRICT_SELF = 446
_NR_SECCOMP = {"x86_64": 317, "aarch64": 277}

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_X32_SYSCALL_BIT = 0x40000000

# Answered EPERM. Syscalls from 424 on share one numbering on every architecture.
_DENY_UNIFIED = {
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "pidfd_send_signal": 424,
    "pidfd_open": 434,
    "pidfd_getfd": 438,
    "process_madvise": 440,
    "mount_setattr": 442,
    "process_mrelease": 448,
    # Owner-only operations: a root subject without capabilities still owns root's
    # files (the standard library, anything it can name or open read-only).
    "fchmodat2": 452,
    "setxattrat": 463,
    "removexattrat": 466,
}
# Shared by x86_64 and aarch64 under these names, with each architecture's numbers:
# SysV IPC and POSIX message queues (state that outlives the attempt, and memory
# no rlimit counts), and owner-only file operations (modes, owners, times, xattrs).
_DENY_COMMON = {
    "x86_64": {
        "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67,
        "semget": 64, "semop": 65, "semctl": 66, "semtimedop": 220,
        "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71,
        "mq_open": 240, "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243,
        "mq_notify": 244, "mq_getsetattr": 245,
        "chmod": 90, "fchmod": 91, "fchmodat": 268,
        "chown": 92, "fchown": 93, "lchown": 94, "fchownat": 260,
        "utime": 132, "utimes": 235, "futimesat": 261, "utimensat": 280,
        "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190,
        "removexattr": 197, "lremovexattr": 198, "fremovexattr": 199,
    },
    "aarch64": {  # no legacy chmod, chown, lchown, utime, utimes, futimesat
        "shmget": 194, "shmat": 196, "shmctl": 195, "shmdt": 197,
        "semget": 190, "semop": 193, "semctl": 191, "semtimedop": 192,
        "msgget": 186, "msgsnd": 189, "msgrcv": 188, "msgctl": 187,
        "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183,
        "mq_notify": 184, "mq_getsetattr": 185,
        "fchmod": 52, "fchmodat": 53, "fchown": 55, "fchownat": 54, "utimensat": 88,
        "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7,
        "removexattr": 14, "lremovexattr": 15, "fremovexattr": 16,
    },
}  # fmt: skip
# aarch64 has no fork/vfork/iopl/ioperm syscalls (clone only).
_DENY = {
    "x86_64": {
        "fork": 57,
        "vfork": 58,
        "execve": 59,
        "execveat": 322,
        "setsid": 112,
        "setpgid": 109,
        "ptrace": 101,
        "process_vm_readv": 310,
        "process_vm_writev": 311,
        "socket": 41,
        "unshare": 272,
        "setns": 308,
        "mount": 165,
        "umount2": 166,
        "pivot_root": 155,
        "chroot": 161,
        "bpf": 321,
        "perf_event_open": 298,
        "userfaultfd": 323,
        "keyctl": 250,
        "add_key": 248,
        "request_key": 249,
        "kcmp": 312,
        "kexec_load": 246,
        "kexec_file_load": 320,
        "init_module": 175,
        "finit_module": 313,
        "delete_module": 176,
        "open_by_handle_at": 304,
        "name_to_handle_at": 303,
        "iopl": 172,
        "ioperm": 173,
        "reboot": 169,
        "swapon": 167,
        "swapoff": 168,
        "acct": 163,
        "fanotify_init": 300,
        "tkill": 200,  # a thread of any process; glibc signals threads with tgkill
        "mknod": 133,
        "mknodat": 259,
        "capset": 126,
        **_DENY_COMMON["x86_64"],
        **_DENY_UNIFIED,
    },
    "aarch64": {
        "execve": 221,
        "execveat": 281,
        "setsid": 157,
        "setpgid": 154,
        "ptrace": 117,
        "process_vm_readv": 270,
        "process_vm_writev": 271,
        "socket": 198,
        "unshare": 97,
        "setns": 268,
        "mount": 40,
        "umount2": 39,
        "pivot_root": 41,
        "chroot": 51,
        "bpf": 280,
        "perf_event_open": 241,
        "userfaultfd": 282,
        "keyctl": 219,
        "add_key": 217,
        "request_key": 218,
        "kcmp": 272,
        "kexec_load": 104,
        "kexec_file_load": 294,
        "init_module": 105,
        "finit_module": 273,
        "delete_module": 106,
        "open_by_handle_at": 265,
        "name_to_handle_at": 264,
        "reboot": 142,
        "swapon": 224,
        "swapoff": 225,
        "acct": 89,
        "fanotify_init": 262,
        "tkill": 130,
        "mknodat": 33,
        "capset": 91,
        **_DENY_COMMON["aarch64"],
        **_DENY_UNIFIED,
    },
}
# Allowed only when aimed at the subject itself: the first argument is a pid (or a
# thread group id) that must be the subject's, or 0 ("myself") except for the
# signals. Checked on the low 32 bits, which is what the kernel reads (an int).
_OWN_PID = {
    "x86_64": {
        "kill": 62,
        "tgkill": 234,
        "rt_sigqueueinfo": 129,
        "rt_tgsigqueueinfo": 297,
        "prlimit64": 302,
        "sched_setparam": 142,
        "sched_setscheduler": 144,
        "sched_setaffinity": 203,
        "sched_setattr": 314,
        "migrate_pages": 256,
        "move_pages": 279,
        "get_robust_list": 274,
    },
    "aarch64": {
        "kill": 129,
        "tgkill": 131,
        "rt_sigqueueinfo": 138,
        "rt_tgsigqueueinfo": 240,
        "prlimit64": 261,
        "sched_setparam": 118,
        "sched_setscheduler": 119,
        "sched_setaffinity": 122,
        "sched_setattr": 274,
        "migrate_pages": 238,
        "move_pages": 239,
        "get_robust_list": 100,
    },
}
# Signals take no 0: kill(0) is the whole process group; tgkill(0) is EINVAL anyway.
_SIGNALS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
# (which, who, ...): allowed only for which = "a process" and who = 0 or the subject.
_NR_SETPRIORITY = {"x86_64": 141, "aarch64": 140}
_NR_IOPRIO_SET = {"x86_64": 251, "aarch64": 30}
_PRIO_PROCESS = 0
_IOPRIO_WHO_PROCESS = 1
_NR_CLONE = {"x86_64": 56, "aarch64": 220}
_NR_CLONE3 = 435
_CLONE_THREAD = 0x00010000
# Answered EOPNOTSUPP: fallocate reserves disk that RLIMIT_FSIZE never sees (with
# FALLOC_FL_KEEP_SIZE, on a descriptor of the real disk such as the output file);
# glibc's posix_fallocate then falls back to writing, which the limits bound.
_NR_FALLOCATE = {"x86_64": 285, "aarch64": 47}
# Answered ENOSYS, what a kernel without them says: memory no rlimit counts (a
# memfd's pages are shmem, outside RLIMIT_DATA). Careful callers fall back to a
# file in TMPDIR (the quota-bound scratch folder) on ENOSYS; EPERM, a policy
# refusal, is more often taken as fatal.
_NR_MEMFD_CREATE = {"x86_64": 319, "aarch64": 279}
_NR_MEMFD_SECRET = 447  # the same number on both
# mmap with MAP_SHARED and MAP_ANONYMOUS together: shared memory, which RLIMIT_DATA
# does not count. Private anonymous memory and shared mappings of files (scratch
# files are bounded by the tmpfs quota) stay allowed. No mmap2 on 64-bit.
_NR_MMAP = {"x86_64": 9, "aarch64": 222}
_MAP_SHARED = 0x01  # MAP_SHARED_VALIDATE (0x03) has it too
_MAP_ANONYMOUS = 0x20
# fcntl(F_SETLEASE): a lease on any file it can open (an owner's right) makes every
# other opener wait for the lease-break time (45 s by default).
# F_SETOWN/F_SETOWN_EX: a SIGIO aimed at another process or group (the judge); Landlock
# scopes signals from kernel 6.12 (ABI 6) only, this refuses it on every kernel.
_NR_FCNTL = {"x86_64": 72, "aarch64": 25}
_F_SETLEASE = 1024
_F_SETOWN = 8
_F_SETOWN_EX = 15

# Landlock access rights (include/uapi/linux/landlock.h)
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_MAKE_CHAR = 1 << 6
_FS_MAKE_SOCK = 1 << 9
_FS_MAKE_FIFO = 1 << 10
_FS_MAKE_BLOCK = 1 << 11
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
_FS_IOCTL_DEV = 1 << 15  # ABI 5
_FS_ABI1 = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
_SPECIAL_FILES = _FS_MAKE_CHAR | _FS_MAKE_BLOCK | _FS_MAKE_FIFO | _FS_MAKE_SOCK
_FS_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_NET_BIND_TCP = 1 << 0
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_SCOPE_SIGNAL = 1 << 1
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_KNOWN_ABI = 7  # newer kernels are used at this level: their extra rights stay unhandled

_PR_SET_PDEATHSIG = 1
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_CAP_SETPCAP = 8
_CAP_SYS_ADMIN = 21
_CAP_SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18

_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_GET_ACTION_AVAIL = 2
_SECCOMP_FILTER_FLAG_TSYNC = 1
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000

# Not /dev/zero: a MAP_SHARED mapping of it is shared memory, which RLIMIT_DATA does
# not count, and nothing the subject runs needs it.
_DEVICES = (
    ("/dev/null", "dev-rw"),
    ("/dev/urandom", "dev-ro"),  # os.urandom uses getrandom(2); this is the fallback
)
# Read-only, besides the Python installation and site-packages. Missing ones are
# skipped; on merged-/usr systems /lib and /usr/lib resolve to the same folder.
_SYSTEM_READ = (
    # Shared libraries (and what lives beside them: glibc's locale archive, gconv,
    # the OpenSSL modules) for extension modules, numpy's and TensorFlow's.
    "/lib",
    "/lib64",
    "/lib32",
    "/usr/lib",
    "/usr/lib64",
    "/usr/lib32",
    "/usr/share/zoneinfo",  # time zones: time.localtime, zoneinfo, datetime
    "/usr/share/locale/locale.alias",  # glibc's setlocale()
    # /etc: only what glibc, Python, numpy and TensorFlow read.
    "/etc/ld.so.cache",  # dlopen() of a library by name (TensorFlow, ctypes)
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",  # the local time zone (a link into /usr/share/zoneinfo)
    "/etc/passwd",  # pwd, getpass.getuser, os.path.expanduser without HOME
    "/etc/group",  # grp
    "/etc/nsswitch.conf",  # how glibc looks up the two above
    "/etc/hosts",  # socket.gethostbyname("localhost") and the like
    "/etc/host.conf",
    "/etc/os-release",  # platform.freedesktop_os_release
    "/etc/mime.types",  # mimetypes
    "/etc/ssl/openssl.cnf",  # OpenSSL reads it on start (via /usr/lib/ssl), not keys
    # /sys: the CPU and memory layout, which numpy's and TensorFlow's thread pools
    # (and the libraries beneath them) read to size themselves.
    "/sys/devices/system/cpu",
    "/sys/devices/system/node",
    "/sys/bus/cpu/devices",  # links into /sys/devices/system/cpu
    "/sys/bus/node/devices",
    "/sys/fs/cgroup",  # CPU quota and cpuset of the container
)


# --------------------------------------------------------------------------------
# Public API


def probe(c: Confinement | None = None) -> Protection:
    """What `confine(c)` would achieve here, without applying anything.

    Without `c`, a default confinement (uid 65534, no hidden paths) is assumed, so
    notes that depend on the scratch and hidden paths are left out."""
    default = c is None
    if c is None:
        c = Confinement(scratch=Path(os.getcwd()), hidden=())
    notes: list[str] = []
    uid = _uid_plan(c, notes, check_scratch=not default)
    abi: int | None = None
    seccomp = False
    if not _LINUX:
        notes.extend(_not_linux_notes())
    elif _ARCH is None:
        notes.extend(_unknown_arch_notes())
    else:
        abi = _landlock_abi(notes)
        if abi is not None:
            if not default:  # notes about a made-up scratch folder would mislead
                notes.extend(plan(c)[1])
            notes.extend(_abi_notes(abi))
        seccomp = _seccomp_available(notes)
    quota = _quota_plan(c, notes)
    capabilities = None
    if _LINUX:
        userns = quota is not None and os.geteuid() != 0
        capabilities = "dropped" if _holds_capabilities() or userns else "none held"
    return Protection(
        landlock_abi=abi,
        seccomp=seccomp,
        uid=uid,
        notes=notes,
        capabilities=capabilities,
        scratch_quota_mb=quota,
    )


def confine(c: Confinement) -> Protection:
    """Apply every protection this machine offers to the calling process, for good.

    Call it in a freshly forked, single-threaded child before any learner code:
    Landlock restricts only the calling thread and the threads it starts later, so a
    thread that already exists would stay free (checked; raises SandboxError).
    Never raises because something is unsupported: see `Protection.notes`."""
    _check_single_threaded()
    notes: list[str] = []
    uid = _uid_plan(c, notes, check_scratch=True)
    # Planned while still the original user, who can list everything probe() saw.
    abi: int | None = None
    rules: list[Rule] = []
    seccomp = False
    if not _LINUX:
        notes.extend(_not_linux_notes())
    elif _ARCH is None:
        notes.extend(_unknown_arch_notes())
    else:
        abi = _landlock_abi(notes)
        if abi is not None:
            rules, plan_notes = plan(c)
            notes.extend(plan_notes)
            notes.extend(_abi_notes(abi))
        seccomp = _seccomp_available(notes)

    _set_rlimits(c, dropping=uid is not None)
    os.umask(0o077)
    quota: int | None = None
    capabilities: str | None = None
    privileged = bounding = False
    if _LINUX:
        privileged = _holds_capabilities()
        owner = (uid, _gid_for(uid)) if uid is not None else (os.geteuid(), os.getegid())
        quota, userns = _private_scratch(c, *owner, notes)
        privileged = privileged or userns
        # Needs CAP_SETPCAP, which the uid drop takes away: done before it.
        bounding = privileged and _drop_bounding_set()
        if privileged and not bounding:
            notes.append(
                "capability bounding set not emptied (no CAP_SETPCAP); with no new "
                "privileges and no exec it grants nothing"
            )
    else:
        quota = _quota_plan(c, notes)
    if uid is not None:
        _drop_uid(c, uid)
    if _LINUX:
        if privileged:
            _drop_capabilities(bounding=bounding)
        capabilities = "dropped" if privileged else "none held"
    if c.parent is not None:
        _die_with(c.parent)

    if _LINUX and _ARCH is not None:
        if _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise SandboxError(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {_errno_text()}")
        if abi is not None:
            _apply_landlock(abi, rules)
        if seccomp:
            _apply_seccomp(_ARCH)
    return Protection(
        landlock_abi=abi,
        seccomp=seccomp,
        uid=uid,
        notes=notes,
        capabilities=capabilities,
        scratch_quota_mb=quota,
    )


def plan(c: Confinement) -> tuple[list[Rule], list[str]]:
    """The Landlock allow rules for `c`, and notes on anything left exposed.

    Landlock can only add access, never carve a hole out of an allowed tree, so a
    read-only tree that contains a hidden path (or the `workbook` package, or a
    site-packages folder) is not allowed whole: it is split into its entries, down
    to the hidden path, which is left out. Site-packages folders are always allowed
    entry by entry, skipping `workbook` and entries that are or resolve into a
    hidden path. Python installation trees are allowed even inside a hidden path (a
    `.venv` in the workspace); other trees are not."""
    hidden = _unique(_resolve(p) for p in c.hidden)
    excluded = _unique([*_workbook_dirs(), *hidden])
    if c.static_rules is not None:
        # Kept as the resolved strings they came as: parsing some 400 of them into
        # Path objects was ~4 ms of every subject's start-up, waited for by its judge.
        static = [Rule(path, access) for path, access in c.static_rules]
        static_notes = list(c.static_notes)
    else:
        static, static_notes = _static_plan(tuple(hidden), tuple(Path(p) for p in c.extra_read))
    rules = [*static, *(Rule(entry, "read") for entry in _proc_entries())]
    notes = list(static_notes)
    scratch = _resolve(c.scratch)
    rules.append(Rule(scratch, "write"))
    for dev, access in _DEVICES:
        if os.path.exists(dev):
            rules.append(Rule(Path(dev), access))

    excluded_text = [str(h) for h in excluded]
    for rule in rules:
        if rule.access.startswith("dev"):
            continue
        for h in excluded_text:
            if _within(h, rule.path):
                notes.append(
                    f"{PARTIAL_FILES}: {h} lies inside {rule.path}, which the "
                    f"learner's code may {'write' if rule.access == 'write' else 'read'}"
                )
    return rules, notes


# --------------------------------------------------------------------------------
# Rule planning


@functools.lru_cache(maxsize=8)
def _static_plan(
    hidden: tuple[Path, ...], extra_read: tuple[Path, ...]
) -> tuple[list[Rule], list[str]]:
    """The read rules that depend only on the installation and the hidden paths.

    Listing site-packages and resolving its entries costs tens of milliseconds: the
    grading parent computes this once per process (`static_plan`) and hands the
    rules to every subject in its job."""
    excluded = _unique([*_workbook_dirs(), *hidden])
    sitedirs = _unique(_resolve(p) for p in _site_dirs())
    planner = _Planner(hidden=list(hidden), excluded=excluded, sitedirs=sitedirs)
    for root in _python_trees():
        planner.add(root, trusted=True)
    for root in _SYSTEM_READ:
        planner.add(Path(root), trusted=True)
    for sitedir in sitedirs:
        planner.add(sitedir, trusted=True)
    for root in extra_read:
        planner.add(root, trusted=False)
    return planner.folded(), list(planner.notes)


def static_plan(hidden: Iterable[Path | str]) -> dict[str, list]:
    """The read rules that depend only on the installation and these hidden paths, as
    plain data for `Confinement.static_rules`: the parent plans them (once per
    process) while the judge is still starting, and the subject only applies them."""
    rules, notes = _static_plan(tuple(_unique(_resolve(p) for p in hidden)), ())
    return {"rules": [[str(rule.path), rule.access] for rule in rules], "notes": notes}


class _Planner:
    """Paths are resolved strings here: a wheel install or a base interpreter's
    standard library holding site-packages is listed entry by entry (hundreds), and
    pathlib's resolve and parents made that ~90 ms of every cold `workbook check`."""

    def __init__(self, hidden: list[Path], excluded: list[Path], sitedirs: list[Path]):
        self.hidden = [str(h) for h in hidden]
        self.excluded = [str(x) for x in excluded]  # hidden paths and the workbook package
        self.others = [x for x in self.excluded if x not in self.hidden]
        self.sitedirs = [str(d) for d in sitedirs]
        self.rules: dict[str, Rule] = {}
        self.notes: list[str] = []
        self._seen: set[str] = set()

    def add(
        self, path: Path | str, *, trusted: bool, context: str | None = None,
        real: str | None = None,
    ) -> None:  # fmt: skip
        """Allow reading `path`, split where needed. `trusted`: a tree the Python
        installation needs, allowed even inside a hidden path. `context`: the
        site-packages folder `path` was found in; an entry that resolves into a
        hidden path is skipped unless that hidden path also holds the folder (a
        `.venv` inside the workspace). `real`: `path` resolved, when known."""
        if real is None:
            try:
                real = os.path.realpath(path, strict=True)
            except (OSError, RuntimeError, ValueError):
                return
        if real in self._seen:
            return
        if any(_within(real, w) for w in self.others):
            return  # inside the workbook package
        if real in self.hidden:
            return
        if not trusted and any(
            _within(real, h) and not (context and _within(context, h)) for h in self.hidden
        ):
            return
        if context is not None and os.path.basename(path) == "workbook":
            return
        self._seen.add(real)
        if real in self.rules or _under_any(real, self.rules):
            return  # already covered by an allowed tree
        # A site-packages folder is split only when it holds the workbook package (a
        # pip install carries the references) or a hidden path; a symlink inside an
        # allowed tree grants nothing, as Landlock checks the file it resolves to.
        must_split = any(_within(x, real) and x != real for x in self.excluded) or (
            real not in self.sitedirs and any(_within(x, real) and x != real for x in self.sitedirs)
        )
        if not must_split:
            self.rules[real] = Rule(Path(real), "read")
            return
        try:
            with os.scandir(real) as listing:
                entries = sorted((entry.name, entry.is_symlink()) for entry in listing)
        except NotADirectoryError:
            return
        except OSError as exc:
            self.notes.append(
                f"{real} is left unreadable: it holds a hidden path and cannot be listed "
                f"({exc.strerror})"
            )
            return
        inner = real if real in self.sitedirs else context
        for name, link in entries:
            entry = os.path.join(real, name)
            self.add(
                entry, trusted=trusted and inner is None, context=inner,
                real=None if link else entry,  # a listed entry that is no link is itself
            )  # fmt: skip

    def folded(self) -> list[Rule]:
        """The rules, minus those inside another allowed tree."""
        return [rule for p, rule in self.rules.items() if not _under_any(p, self.rules)]


def _proc_entries() -> list[Path]:
    """/proc without other processes: the system-wide entries (cpuinfo, meminfo,
    sys, ...) and this process's own folder. Landlock leaves some of another
    process's files to the ptrace check, which lets a same-uid process read its
    environ, cmdline and maps; the judge's must stay out of reach."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    own = str(os.getpid())
    return [Path("/proc", n) for n in sorted(names) if not n.isdigit() or n == own]


def _python_trees() -> list[Path]:
    """The Python installation, precisely: the standard library folders, lib-dynload,
    the interpreter's executable file and its shared libpython, if any. Not the
    prefixes whole: a virtual environment's holds the workspace's tools, a base
    prefix such as /usr or /usr/local holds everything else."""
    import sysconfig

    trees = [sysconfig.get_path(key) for key in ("stdlib", "platstdlib")]
    stdlib = os.path.dirname(os.__file__)
    trees += [stdlib, os.path.join(stdlib, "lib-dynload")]
    trees.append(sysconfig.get_config_var("DESTSHARED"))  # lib-dynload, as installed
    for name in ("_ctypes", "_struct", "math"):  # where extension modules really are
        module_file = getattr(sys.modules.get(name), "__file__", None)
        if module_file:
            trees.append(os.path.dirname(module_file))
    trees.append(os.path.realpath(sys.executable) if sys.executable else None)
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:
        for var in ("INSTSONAME", "LDLIBRARY"):
            name = sysconfig.get_config_var(var)
            if name and ".so" in name:  # not a static libpythonX.Y.a
                trees.append(os.path.join(libdir, name))
    return [Path(t) for t in trees if t]


def _site_dirs() -> list[Path]:
    """Every site-packages folder this interpreter could import from, including any
    under the prefixes that `site` did not list (a base interpreter's)."""
    dirs: list[str] = []
    # Some embedded or old-virtualenv `site` modules lack these.
    with contextlib.suppress(AttributeError):
        dirs.extend(site.getsitepackages())
    with contextlib.suppress(AttributeError):
        dirs.append(site.getusersitepackages())
    dirs.extend(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        for lib in ("lib", "lib64"):
            base = Path(prefix, lib)
            if base.is_dir():
                dirs.extend(str(p) for p in base.glob("python3*/site-packages"))
    return [Path(d) for d in dirs if os.path.isdir(d)]


@functools.lru_cache(maxsize=1)
def _workbook_dirs() -> list[Path]:
    """The `workbook` package this module belongs to, and any other installed copy."""
    found = [Path(__file__).resolve().parents[2]]
    for sitedir in _site_dirs():
        candidate = sitedir / "workbook"
        if candidate.exists():
            found.append(candidate.resolve())
    return found


def _resolve(p: Path | str) -> Path:
    return Path(os.path.realpath(p))


def _within(path: Path | str, root: Path | str) -> bool:
    """`path` is `root` or lies beneath it (both resolved). String work: pathlib's
    `parents` is far too slow for the thousands of checks a plan makes."""
    p, r = str(path), str(root)
    return p == r or p.startswith(r if r.endswith("/") else r + "/")


def _under_any(path: str, roots: Container[str]) -> bool:
    """A strict ancestor of `path` (a resolved absolute path) is in `roots`."""
    parent = os.path.dirname(path)
    while parent != path:
        if parent in roots:
            return True
        path, parent = parent, os.path.dirname(parent)
    return False


def _unique(paths: Iterable[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))


# --------------------------------------------------------------------------------
# Uid drop and limits


def _uid_plan(c: Confinement, notes: list[str], *, check_scratch: bool) -> int | None:
    """The uid to drop to, or None (with a note when one was wanted but cannot be)."""
    if c.uid is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    gid = _gid_for(c.uid)
    needed = [(path, 5) for path in [Path(os.__file__).parent, *_site_dirs()]]
    dynload = Path(os.__file__).parent / "lib-dynload"
    if dynload.is_dir():
        needed.append((dynload, 5))
    if check_scratch:  # passed through, not listed: the runner makes it 0711 for this
        needed.append((Path(c.scratch).parent, 1))
    for path, need in needed:
        problem = _dac_problem(path, c.uid, gid, need=need)
        if problem:
            notes.append(
                f"running as root, uid not dropped: uid {c.uid} could not {problem}, so "
                f"imports would fail (install Python and the scratch folder where other "
                f"users can read them)"
            )
            return None
    return c.uid


def _gid_for(uid: int) -> int:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_gid
    except (ImportError, KeyError):
        return uid


def _dac_problem(path: Path, uid: int, gid: int, *, need: int = 5) -> str | None:
    """Why `uid`/`gid` (no supplementary groups) could not reach `path`, from the
    permission bits of it and its ancestors (ACLs are not consulted); None if it can.
    Ancestors need search (x); `path` itself needs `need`: 5 to list it (r-x), 1 to
    pass through it (--x)."""
    real = _resolve(path)
    chain = [*reversed(real.parents), real]
    for i, part in enumerate(chain):
        try:
            st = os.stat(part)
        except OSError:
            return None  # missing: nothing to import from there anyway
        if st.st_uid == uid:
            bits = (st.st_mode >> 6) & 7
        elif st.st_gid == gid:
            bits = (st.st_mode >> 3) & 7
        else:
            bits = st.st_mode & 7
        wanted = need if i == len(chain) - 1 else 1
        if bits & wanted != wanted:
            return (
                f"reach {real} ({part} has mode {stat.S_IMODE(st.st_mode):04o}, "
                f"owner uid {st.st_uid})"
            )
    return None


def _set_rlimits(c: Confinement, *, dropping: bool) -> None:
    try:
        import resource
    except ImportError:  # not POSIX
        return
    mb = 1024 * 1024
    cpu = max(1, int(c.cpu_hard_s + 0.999))
    limits = [
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, c.file_mb * mb),
        (resource.RLIMIT_DATA, c.memory_mb * mb),
        (resource.RLIMIT_CPU, cpu),
    ]
    if dropping and hasattr(resource, "RLIMIT_NPROC"):
        limits.append((resource.RLIMIT_NPROC, c.nproc))
    for which, value in limits:
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY and hard < value:
            value = hard  # never ask for more than we may have
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError) as exc:
            raise SandboxError(f"setrlimit({which}, {value}) failed: {exc}") from exc


def _drop_uid(c: Confinement, uid: int) -> None:
    """Give the scratch folder to `uid`, then become it for good (all ids, no groups).
    Python's os.set* call glibc, which applies them to every thread."""
    gid = _gid_for(uid)
    scratch = _resolve(c.scratch)
    for path in _walk(scratch):
        os.lchown(path, uid, gid)
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if hasattr(os, "getresuid"):
        if set(os.getresuid()) != {uid} or set(os.getresgid()) != {gid} or os.getgroups():
            raise SandboxError(f"uid drop to {uid} incomplete: {os.getresuid()}")
        try:
            os.setuid(0)
        except PermissionError:
            pass
        else:
            raise SandboxError("uid drop can be undone: setuid(0) succeeded")


def _walk(root: Path) -> Iterator[str]:
    yield str(root)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            yield os.path.join(dirpath, name)


def _die_with(parent: int) -> None:
    """Re-arm "kill me when my parent dies" (a credential change clears it). If the
    parent is already gone, act as the signal would have."""
    if not _LINUX:
        return
    import signal

    if _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise SandboxError(f"prctl(PR_SET_PDEATHSIG) failed: {_errno_text()}")
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def _check_single_threaded() -> None:
    if _LINUX:
        try:
            with open("/proc/self/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("Threads:"):
                        count = int(line.split()[1])
                        break
                else:
                    count = 1
        except OSError:
            import threading

            count = threading.active_count()
    else:
        import threading

        count = threading.active_count()
    if count != 1:
        raise SandboxError(
            f"confine() needs a single-threaded process, this one has {count} threads: "
            f"threads that exist before confinement are not confined"
        )


# --------------------------------------------------------------------------------
# Capabilities


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def _cap_sets() -> dict[str, int]:
    """The five capability sets of this thread, from /proc/self/status (a set the
    kernel does not show, such as CapAmb before 4.3, counts as empty)."""
    sets = dict.fromkeys(_CAP_SETS, 0)
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in sets:
                sets[name] = int(value, 16)
    return sets


def _holds_capabilities() -> bool:
    """Root, or any capability that would survive: something to drop."""
    if os.geteuid() == 0:
        return True
    try:
        sets = _cap_sets()
    except OSError:
        return False
    return any(sets[name] for name in ("CapInh", "CapPrm", "CapEff", "CapAmb"))


def _drop_bounding_set() -> bool:
    """Empty the bounding set, which needs CAP_SETPCAP: done while still root (a uid
    drop takes it away) or inside the user namespace made for the quota. Returns
    whether it could be done."""
    if not _cap_sets()["CapEff"] >> _CAP_SETPCAP & 1:
        return False
    try:
        with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as f:
            last = int(f.read())
    except (OSError, ValueError):
        last = 63  # unknown: go on until the kernel says EINVAL
    libc = _libc()
    for cap in range(last + 1):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            if err == errno.EINVAL:
                break  # past the last capability this kernel knows
            if err == errno.EPERM and cap == 0:
                return False  # shown but not granted (an LSM-restricted user namespace)
            raise SandboxError(f"prctl(PR_CAPBSET_DROP, {cap}) failed: {_errno_text()}")
    return True


def _drop_capabilities(*, bounding: bool) -> None:
    """Clear the ambient set, then effective, permitted and inheritable (capset(2)),
    and check /proc/self/status: all empty, and the bounding set too if `bounding`."""
    libc = _libc()
    cleared = libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == 0
    if not cleared and ctypes.get_errno() != errno.EINVAL:  # EINVAL: no ambient set (< 4.3)
        raise SandboxError(f"prctl(PR_CAP_AMBIENT_CLEAR_ALL) failed: {_errno_text()}")
    header = _CapHeader(version=_LINUX_CAPABILITY_VERSION_3, pid=0)
    data = (_CapData * 2)()  # version 3: two 32-bit halves, all zero
    if libc.capset(ctypes.byref(header), data) != 0:
        raise SandboxError(f"capset(all empty) failed: {_errno_text()}")
    sets = _cap_sets()
    left = {name: f"{value:x}" for name, value in sets.items() if value}
    if not bounding:
        left.pop("CapBnd", None)
    if left:
        raise SandboxError(f"capabilities left after dropping them all: {left}")


# --------------------------------------------------------------------------------
# Scratch quota


def _quota_plan(c: Confinement, notes: list[str]) -> int | None:
    """What `_private_scratch` would achieve, guessed without trying (for `probe`)."""
    if c.scratch_mb <= 0:
        return None
    if not _LINUX:
        notes.append(f"scratch quota not enforced: not Linux ({sys.platform})")
        return None
    try:
        sets = _cap_sets()
    except OSError:
        sets = dict.fromkeys(_CAP_SETS, 0)
    if os.geteuid() == 0:
        if sets["CapEff"] >> _CAP_SYS_ADMIN & 1:
            return c.scratch_mb
        notes.append(_quota_note("root without CAP_SYS_ADMIN may not make a mount namespace"))
        return None
    for knob, refusing in (
        ("/proc/sys/user/max_user_namespaces", "0"),
        ("/proc/sys/kernel/unprivileged_userns_clone", "0"),
        ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1"),
    ):
        try:
            with open(knob, encoding="ascii") as f:
                value = f.read().strip()
        except OSError:
            continue
        if value == refusing:
            notes.append(_quota_note(f"user namespaces are not allowed ({knob} is {value})"))
            return None
    return c.scratch_mb


def _quota_note(why: str) -> str:
    return (
        f"scratch quota not enforced: {why}, so the learner's code may fill the disk "
        f"under the scratch folder (each file is still limited)"
    )


def _private_scratch(
    c: Confinement, owner: int, group: int, notes: list[str]
) -> tuple[int | None, bool]:
    """Mount a tmpfs of `c.scratch_mb` MiB, mode 0700, owned by `owner`/`group`,
    over the scratch folder in a mount namespace of this process alone. Returns the
    size (None, with a note, where it cannot be done) and whether a user namespace
    was made for it (its capabilities are dropped later with the rest)."""
    if c.scratch_mb <= 0:
        return None, False
    libc = _libc()
    userns = os.geteuid() != 0
    if userns:
        # An unprivileged mount namespace needs its own user namespace, in which
        # this process maps only its own uid and gid (no other identity to become).
        uid, gid = os.geteuid(), os.getegid()
        if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS) != 0:
            notes.append(_quota_note(f"no user namespace ({_errno_text()})"))
            return None, False
        try:
            for name, text in (
                ("setgroups", "deny"),
                ("uid_map", f"{uid} {uid} 1"),
                ("gid_map", f"{gid} {gid} 1"),
            ):
                with open(f"/proc/self/{name}", "w", encoding="ascii") as f:
                    f.write(text)
        except OSError as exc:
            raise SandboxError(f"mapping ids in the new user namespace failed: {exc}") from exc
    elif libc.unshare(_CLONE_NEWNS) != 0:
        notes.append(_quota_note(f"no mount namespace ({_errno_text()})"))
        return None, False
    # Our mounts must not propagate to the rest of the system (where "/" is shared).
    if libc.mount(None, b"/", None, ctypes.c_ulong(_MS_REC | _MS_PRIVATE), None) != 0:
        notes.append(_quota_note(f"making mounts private failed ({_errno_text()})"))
        return None, userns
    scratch = _resolve(c.scratch)
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = None
    inodes = max(1024, c.scratch_mb * 64)  # inodes cost kernel memory, not size
    options = f"size={c.scratch_mb}m,nr_inodes={inodes},mode=0700,uid={owner},gid={group}"
    flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
    if (
        libc.mount(
            b"tmpfs", os.fsencode(scratch), b"tmpfs", ctypes.c_ulong(flags), options.encode()
        )
        != 0
    ):
        notes.append(_quota_note(f"mounting a tmpfs on {scratch} failed ({_errno_text()})"))
        return None, userns
    if cwd is not None and _within(_resolve(cwd), scratch):
        os.chdir(scratch)  # the old working folder is now hidden beneath the tmpfs
    return c.scratch_mb, userns


# --------------------------------------------------------------------------------
# Landlock


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def _handled_fs(abi: int) -> int:
    rights = _FS_ABI1
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    if abi >= 5:
        rights |= _FS_IOCTL_DEV
    return rights


def _landlock_abi(notes: list[str]) -> int | None:
    """The kernel's Landlock ABI version, or None with a note saying why not."""
    res = _libc().syscall(
        ctypes.c_long(_NR_LANDLOCK_CREATE_RULESET),
        ctypes.c_void_p(None),
        ctypes.c_size_t(0),
        ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION),
    )
    if res < 0:
        err = ctypes.get_errno()
        why = {
            errno.ENOSYS: "kernel built without it",
            errno.EOPNOTSUPP: "disabled at boot (not in the lsm= list)",
        }.get(err, os.strerror(err))
        notes.append(
            f"Landlock unavailable ({why}; kernel {platform.release()}): files are not "
            f"confined, the learner's code can read and write whatever this user can"
        )
        return None
    return min(int(res), _KNOWN_ABI)


def _abi_notes(abi: int) -> list[str]:
    notes = []
    if abi < 3:
        notes.append(
            f"Landlock ABI {abi}: truncating files outside the scratch folder is not denied"
        )
    if abi < 4:
        notes.append(
            f"Landlock ABI {abi}: TCP is not confined by Landlock (the syscall filter still "
            f"refuses new sockets)"
        )
    if abi < 6:
        notes.append(
            f"Landlock ABI {abi}: signals and abstract unix sockets to other processes of "
            f"this user are not scoped"
        )
    return notes


def _access_rights(abi: int) -> dict[str, int]:
    """The Landlock rights each `Rule.access` grants at this ABI. "write" is all but
    execute and making device, fifo or socket files."""
    handled = _handled_fs(abi)
    access = {
        "read": _FS_READ_FILE | _FS_READ_DIR,
        "write": handled & ~(_FS_EXECUTE | _SPECIAL_FILES),
        "dev-rw": _FS_READ_FILE | _FS_WRITE_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV,
        "dev-ro": _FS_READ_FILE | _FS_IOCTL_DEV,
    }
    return {name: rights & handled for name, rights in access.items()}


def _apply_landlock(abi: int, rules: list[Rule]) -> None:
    handled = _handled_fs(abi)
    attr = _RulesetAttr(handled_access_fs=handled)
    size = 8
    if abi >= 4:
        attr.handled_access_net = _NET_BIND_TCP | _NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = _SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX_SOCKET
        size = 24
    ruleset = _syscall(
        "landlock_create_ruleset",
        _NR_LANDLOCK_CREATE_RULESET,
        ctypes.byref(attr),
        ctypes.c_size_t(size),
        ctypes.c_uint32(0),
    )
    try:
        access = _access_rights(abi)
        for rule in rules:
            _add_rule(ruleset, rule.path, access[rule.access])
        _syscall("landlock_restrict_self", _NR_LANDLOCK_RESTRICT_SELF, ruleset, 0)
    finally:
        os.close(ruleset)


def _add_rule(ruleset: int, path: Path | str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except (FileNotFoundError, PermissionError):
        return  # vanished since planning, or out of reach anyway: nothing to allow
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FS_FILE_ONLY  # directory rights on a file are EINVAL
        if not rights:
            return
        attr = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        _syscall(
            f"landlock_add_rule({path})",
            _NR_LANDLOCK_ADD_RULE,
            ruleset,
            _LANDLOCK_RULE_PATH_BENEATH,
            ctypes.byref(attr),
            0,
        )
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------
# seccomp


class _SockFilter(ctypes.Structure):
    _fields_ = (
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    )


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter)))


_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_JSET_K = 0x45
_BPF_RET_K = 0x06
_OFF_NR = 0
_OFF_ARCH = 4
_OFF_ARGS = 16  # args[0]; each is 8 bytes, its low 32 bits first (little-endian)


def _filter_program(arch: str, pid: int) -> list[tuple[int, int, int, int]]:
    """The BPF program as (code, jt, jf, k) tuples; `pid` is the subject's own
    (the filter is installed in-process)."""
    eperm = _RET_ERRNO | errno.EPERM
    prog = [
        (_BPF_LD_W_ABS, 0, 0, _OFF_ARCH),
        (_BPF_JEQ_K, 1, 0, _AUDIT_ARCH[arch]),
        (_BPF_RET_K, 0, 0, _RET_KILL_PROCESS),  # another ABI (i386 int 0x80)
        (_BPF_LD_W_ABS, 0, 0, _OFF_NR),
    ]
    if arch == "x86_64":  # x32 syscalls have their own numbers: refuse them all
        prog += [(_BPF_JGE_K, 0, 1, _X32_SYSCALL_BIT), (_BPF_RET_K, 0, 0, eperm)]
    for nr in sorted(_DENY[arch].values()):
        prog += [(_BPF_JEQ_K, 0, 1, nr), (_BPF_RET_K, 0, 0, eperm)]
    enosys = _RET_ERRNO | errno.ENOSYS
    for nr in (_NR_MEMFD_CREATE[arch], _NR_MEMFD_SECRET):
        prog += [(_BPF_JEQ_K, 0, 1, nr), (_BPF_RET_K, 0, 0, enosys)]
    prog += [
        (_BPF_JEQ_K, 0, 1, _NR_FALLOCATE[arch]),
        (_BPF_RET_K, 0, 0, _RET_ERRNO | errno.EOPNOTSUPP),
    ]
    prog += _deny_if_bits(_NR_MMAP[arch], 3, _MAP_SHARED, _MAP_ANONYMOUS)
    prog += _deny_if_equal(_NR_FCNTL[arch], 1, {_F_SETLEASE, _F_SETOWN, _F_SETOWN_EX})
    # Aimed at a process: only the subject itself. A signal's 0 (or negative) pid is
    # a process group or everyone, elsewhere 0 means the caller.
    for name, nr in _OWN_PID[arch].items():
        prog += _only_if(nr, (0, {pid} if name in _SIGNALS else {0, pid}))
    for nr, which in (
        (_NR_SETPRIORITY[arch], _PRIO_PROCESS),
        (_NR_IOPRIO_SET[arch], _IOPRIO_WHO_PROCESS),
    ):
        prog += _only_if(nr, (0, {which}), (1, {0, pid}))
    prog += [
        (_BPF_JEQ_K, 0, 1, _NR_CLONE3),
        (_BPF_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS),
        (_BPF_JEQ_K, 0, 3, _NR_CLONE[arch]),
        (_BPF_LD_W_ABS, 0, 0, _OFF_ARGS),
        (_BPF_JSET_K, 1, 0, _CLONE_THREAD),
        (_BPF_RET_K, 0, 0, eperm),  # a new process, not a thread
        (_BPF_RET_K, 0, 0, _RET_ALLOW),
    ]
    return prog


def _only_if(nr: int, *allowed: tuple[int, Iterable[int]]) -> list[tuple[int, int, int, int]]:
    """`if nr == X and not all(arg_i in values_i): EPERM`, as BPF; a call that passes
    is allowed at once (no other rule is about `nr`). Expects the syscall number in
    the accumulator, and leaves it there when `nr` does not match."""
    body: list[tuple[int, int, int, int]] = []
    for index, values in allowed:
        wanted = sorted({v & 0xFFFFFFFF for v in values})
        body.append((_BPF_LD_W_ABS, 0, 0, _OFF_ARGS + 8 * index))
        for i, value in enumerate(wanted):  # a match jumps to the next argument's check
            body.append((_BPF_JEQ_K, len(wanted) - i, 0, value))
        body.append((_BPF_RET_K, 0, 0, _RET_ERRNO | errno.EPERM))
    body.append((_BPF_RET_K, 0, 0, _RET_ALLOW))
    return [(_BPF_JEQ_K, 0, len(body), nr), *body]


def _deny_if_equal(nr: int, index: int, denied: Iterable[int]) -> list[tuple[int, int, int, int]]:
    """`if nr == X and arg_index in denied: EPERM`, as BPF (the low 32 bits, which
    is what the kernel reads of an int); any other call to `nr` is allowed at once
    (no other rule is about `nr`). Expects the syscall number in the accumulator,
    and leaves it there when `nr` does not match."""
    wanted = sorted({v & 0xFFFFFFFF for v in denied})
    body: list[tuple[int, int, int, int]] = [(_BPF_LD_W_ABS, 0, 0, _OFF_ARGS + 8 * index)]
    for i, value in enumerate(wanted):  # a match jumps to the refusal
        body.append((_BPF_JEQ_K, len(wanted) - i, 0, value))
    body += [(_BPF_RET_K, 0, 0, _RET_ALLOW), (_BPF_RET_K, 0, 0, _RET_ERRNO | errno.EPERM)]
    return [(_BPF_JEQ_K, 0, len(body), nr), *body]


def _deny_if_bits(nr: int, index: int, *bits: int) -> list[tuple[int, int, int, int]]:
    """`if nr == X and arg_index has every one of these bits set: EPERM`, as BPF (low
    32 bits); any other call to `nr` is allowed at once. Expects the syscall number
    in the accumulator, and leaves it there when `nr` does not match."""
    body: list[tuple[int, int, int, int]] = [(_BPF_LD_W_ABS, 0, 0, _OFF_ARGS + 8 * index)]
    for i, bit in enumerate(bits):  # a missing bit jumps to the allow
        body.append((_BPF_JSET_K, 0, len(bits) - i, bit))
    body += [(_BPF_RET_K, 0, 0, _RET_ERRNO | errno.EPERM), (_BPF_RET_K, 0, 0, _RET_ALLOW)]
    return [(_BPF_JEQ_K, 0, len(body), nr), *body]


def _seccomp_available(notes: list[str]) -> bool:
    """Whether seccomp filters with the actions we use are supported, asked via
    SECCOMP_GET_ACTION_AVAIL (which changes nothing)."""
    assert _ARCH is not None
    for action in (_RET_ERRNO, _RET_KILL_PROCESS):
        value = ctypes.c_uint32(action)
        res = _libc().syscall(
            ctypes.c_long(_NR_SECCOMP[_ARCH]),
            ctypes.c_uint(_SECCOMP_GET_ACTION_AVAIL),
            ctypes.c_uint(0),
            ctypes.byref(value),
        )
        if res != 0:
            err = ctypes.get_errno()
            notes.append(
                f"seccomp unavailable ({os.strerror(err)}; kernel {platform.release()}): "
                f"the learner's code can start processes and open sockets"
            )
            return False
    return True


def _apply_seccomp(arch: str) -> None:
    program = _filter_program(arch, os.getpid())
    filters = (_SockFilter * len(program))(*(_SockFilter(*ins) for ins in program))
    fprog = _SockFprog(len=len(program), filter=filters)
    libc = _libc()
    res = libc.syscall(
        ctypes.c_long(_NR_SECCOMP[arch]),
        ctypes.c_uint(_SECCOMP_SET_MODE_FILTER),
        ctypes.c_uint(_SECCOMP_FILTER_FLAG_TSYNC),
        ctypes.byref(fprog),
    )
    if res != 0 and ctypes.get_errno() == errno.ENOSYS:  # kernel < 3.17
        res = libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)
    if res != 0:
        raise SandboxError(f"installing the seccomp filter failed: {_errno_text()}")


# --------------------------------------------------------------------------------
# ctypes plumbing and notes

_LIBC: ctypes.CDLL | None = None


def _libc() -> ctypes.CDLL:
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
        _LIBC.syscall.restype = ctypes.c_long
    return _LIBC


def _errno_text() -> str:
    err = ctypes.get_errno()
    return f"{errno.errorcode.get(err, err)} ({os.strerror(err)})"


def _syscall(name: str, nr: int, *args: object) -> int:
    """A raw syscall whose arguments are ints or ctypes values; OSError → SandboxError."""
    cargs = [a if not isinstance(a, int) else ctypes.c_long(a) for a in args]
    res = _libc().syscall(ctypes.c_long(nr), *cargs)
    if res < 0:
        raise SandboxError(f"{name} failed: {_errno_text()}")
    return int(res)


def _not_linux_notes() -> list[str]:
    return [
        f"not Linux ({sys.platform}): files are not confined, the learner's code can "
        f"read and write whatever this user can",
        f"not Linux ({sys.platform}): no syscall filter, the learner's code can start "
        f"processes and open network connections",
    ]


def _unknown_arch_notes() -> list[str]:
    return [
        f"architecture {_MACHINE} not supported: files are not confined and there is no "
        f"syscall filter",
    ]
